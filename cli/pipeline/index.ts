/**
 * The connect pipeline: the one path from "which database?" to "a client can log in", shared by
 * `connect`, `token`, `doctor`, `demo`, the proxy and the benches. Five named steps, each usable alone:
 *
 *   1. findTarget        → StackTarget            outputs file or dbtunnel:stack tags
 *   2. readyJumpHost     → Session Manager target start a stopped EC2 jump host, wait until Online (or ECS)
 *   3. openSession       → Tunnel on 127.0.0.1     native Session Manager port forwarding
 *   4. signToken         → RDS IAM token           for the REAL endpoint and port
 *   5. clientParameters  → ClientParams            verify-full against the endpoint name; rendered by
 *                                                  libpqEnv / libpqConnectionString / mysqlArgs / mysqlExecEnv
 *
 * Each step reports through a PipelineReporter (the CLI's Reporter, or QUIET). The pipeline never imports a
 * command (cli/commands/) or the demo: they are built on it.
 */
export { type AwsClients, type AwsConnection, awsClients } from "../aws.ts";
export {
  type ClientParams,
  exportLines,
  libpqConnectionString,
  libpqEnv,
  shellQuote,
} from "../client-env.ts";
export { findMysqlClient, type MysqlClient, mysqlArgs, mysqlExecEnv } from "../mysql-client.ts";
export type { StackTarget } from "../target.ts";
export { type ClientOptions, clientParameters } from "./client-parameters.ts";
export { findTarget, type TargetQuery } from "./find-target.ts";
export { openSession, type SessionOptions } from "./open-session.ts";
export { type PipelineReporter, QUIET } from "./progress.ts";
export { type JumpHostOptions, readyJumpHost } from "./ready-jump-host.ts";
export { generateToken, signToken, type TokenRequest } from "./sign-token.ts";
