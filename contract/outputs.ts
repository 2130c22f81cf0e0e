/**
 * The stack outputs: what the stack writes (Terraform outputs, snake_case) and the CLI reads back from
 * `cdktf output --outputs-file <file>` (`{ "<stack>": { "<output>": value } }`, or `terraform output -json`
 * style `{ "value": ... }` wrappers). One schema for both sides: the stack's output object is typed by
 * `StackOutputValues`, and `parseStackOutputs` validates every value the CLI uses before it is used.
 */
import { DATABASE_ENGINES, type DatabaseEngine, isDatabaseEngine } from "./engines.ts";
import {
  arnProblem,
  dbNameProblem,
  dbUserProblem,
  dnsNameProblem,
  ecsNameProblem,
  instanceIdProblem,
  isRecord,
  type Problem,
  portProblem,
  printable,
  rdsIdentifierProblem,
  rdsResourceIdProblem,
  regionProblem,
  ssmDocumentNameProblem,
} from "./values.ts";

/** Every output the stack writes, in the order it writes them. */
export const OUTPUT_KEYS = [
  "stack_name",
  "region",
  "jump_host_kind",
  /** EC2 jump host: the instance id; "" for ECS. */
  "jump_host_instance_id",
  /** ECS jump host: cluster and service names; "" for EC2. */
  "ecs_cluster",
  "ecs_service",
  "db_engine",
  "db_identifier",
  /** Host name only, no port. */
  "db_endpoint",
  "db_port",
  /** DbiResourceId, or the cluster resource id for Aurora (the id in rds-db:connect ARNs). */
  "db_resource_id",
  "db_name",
  "db_iam_users",
  "db_master_username",
  /** "" when the database does not let Secrets Manager manage its password. */
  "db_master_secret_arn",
  "engineer_policy_arn",
  /**
   * The stack's Session document of type Port pinned to the database (the only one the engineer policy
   * allows). Absent from outputs of stacks deployed before it existed: the CLI then falls back to
   * AWS-StartPortForwardingSessionToRemoteHost.
   */
  "session_document_name",
] as const;

export type OutputKey = (typeof OUTPUT_KEYS)[number];

/** What the stack writes: a value (literal or Terraform token) for every key; the compiler checks all are there. */
export type StackOutputValues = { readonly [K in OutputKey]: unknown };

/**
 * Name of a stack's pinned Port document (output session_document_name): the CLI derives it from the
 * stack name when it finds the stack by tags.
 */
export function sessionDocumentNameFor(stackName: string): string {
  return `${stackName}-db-port-forwarding`;
}

/** The output whose presence marks a stack in an outputs file as a dbtunnel stack. */
export const MARKER_OUTPUT: OutputKey = "db_endpoint";

export type JumpHostKind = "ec2" | "ecs";
export const JUMP_HOST_KINDS: readonly JumpHostKind[] = ["ec2", "ecs"];

export type JumpHostOutputs =
  | { readonly kind: "ec2"; readonly instanceId: string }
  | { readonly kind: "ecs"; readonly cluster: string; readonly service: string };

/** One stack's outputs, validated. Optional outputs that are absent or "" are undefined. */
export interface StackOutputs {
  readonly stackName?: string;
  readonly region: string;
  readonly jumpHost: JumpHostOutputs;
  readonly db: {
    readonly engine: DatabaseEngine;
    readonly identifier: string;
    readonly endpoint: string;
    readonly port: number;
    readonly resourceId?: string;
    readonly name?: string;
    readonly iamUsers: readonly string[];
    readonly masterUsername?: string;
    readonly masterSecretArn?: string;
  };
  readonly engineerPolicyArn?: string;
  readonly sessionDocumentName?: string;
}

/** A value in an outputs file that is missing or wrong: names the output, the stack and the file. */
export class OutputsError extends Error {
  constructor(
    readonly output: OutputKey,
    readonly stackName: string,
    readonly file: string,
    problem: string,
  ) {
    super(
      problem === "is missing"
        ? `Output '${output}' is missing from stack '${stackName}' in ${file}: ${regenerate(file)}.`
        : `Output '${output}' of stack '${stackName}' in ${file} ${problem}: ${regenerate(file)}.`,
    );
    this.name = "OutputsError";
  }
}

const regenerate = (file: string) => `regenerate it with 'cdktf output --outputs-file ${file}'`;

/** Validates one stack's raw outputs; throws OutputsError on the first bad or missing value. */
export function parseStackOutputs(
  stackName: string,
  raw: Readonly<Record<string, unknown>>,
  file: string,
): StackOutputs {
  const fail = (output: OutputKey, problem: string): never => {
    throw new OutputsError(output, stackName, file, problem);
  };
  const optional = (output: OutputKey, check?: (value: string) => Problem): string | undefined => {
    const value = unwrap(raw[output]);
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") return fail(output, "must be a string");
    const problem = check?.(value);
    return problem === undefined ? value : fail(output, problem);
  };
  const required = (output: OutputKey, check?: (value: string) => Problem): string =>
    optional(output, check) ?? fail(output, "is missing");

  const kind = required("jump_host_kind");
  let jumpHost: JumpHostOutputs;
  if (kind === "ec2") jumpHost = { kind, instanceId: required("jump_host_instance_id", instanceIdProblem) };
  else if (kind === "ecs") {
    jumpHost = {
      kind,
      cluster: required("ecs_cluster", ecsNameProblem),
      service: required("ecs_service", ecsNameProblem),
    };
  } else return fail("jump_host_kind", `must be "ec2" or "ecs", got '${printable(kind)}'`);

  const engine = required("db_engine");
  if (!isDatabaseEngine(engine)) {
    return fail("db_engine", `must be one of ${DATABASE_ENGINES.join(", ")}, got '${printable(engine)}'`);
  }
  const portValue = unwrap(raw.db_port);
  const port = typeof portValue === "string" && /^\d{1,5}$/.test(portValue) ? Number(portValue) : portValue;
  if (portProblem(port) !== undefined) fail("db_port", "must be a port number");
  const endpoint = required("db_endpoint");
  if (endpoint.includes(":") || endpoint.includes("/"))
    fail("db_endpoint", "must be a hostname without port");
  const endpointProblem = dnsNameProblem(endpoint);
  if (endpointProblem) fail("db_endpoint", `must be a hostname: it ${endpointProblem}`);

  return {
    stackName: optional("stack_name"),
    region: required("region", regionProblem),
    jumpHost,
    db: {
      engine,
      identifier: required("db_identifier", rdsIdentifierProblem),
      endpoint,
      port: port as number,
      resourceId: optional("db_resource_id", rdsResourceIdProblem),
      name: optional("db_name", dbNameProblem),
      iamUsers: userList(unwrap(raw.db_iam_users), (problem) => fail("db_iam_users", problem)),
      masterUsername: optional("db_master_username", dbUserProblem),
      masterSecretArn: optional("db_master_secret_arn", (v) => arnProblem(v, "secretsmanager")),
    },
    engineerPolicyArn: optional("engineer_policy_arn", (v) => arnProblem(v, "iam")),
    sessionDocumentName: optional("session_document_name", ssmDocumentNameProblem),
  };
}

/** `terraform output -json` wraps each value as `{ "value": ..., "type": ..., "sensitive": ... }`. */
export function unwrap(value: unknown): unknown {
  if (
    isRecord(value) &&
    "value" in value &&
    Object.keys(value).every((k) => ["value", "type", "sensitive"].includes(k))
  ) {
    return value.value;
  }
  return value;
}

function userList(value: unknown, fail: (problem: string) => never): string[] {
  let users: unknown[];
  if (value === undefined || value === null || value === "") users = [];
  else if (Array.isArray(value)) users = value;
  else if (typeof value === "string") {
    // Terraform sometimes serialises a list output as a JSON string; fall back to comma-separated.
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {}
    users = Array.isArray(parsed) ? parsed : value.split(",").map((v) => v.trim());
  } else return fail("must be a list of database user names");
  return users
    .filter((user) => user !== "")
    .map((user) => {
      if (typeof user !== "string") return fail("must be a list of database user names");
      const problem = dbUserProblem(user);
      return problem === undefined ? user : fail(problem);
    });
}
