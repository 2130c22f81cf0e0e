/**
 * Test fixtures for the CLI, e2e and bench suites: a sandbox account and a dbtunnel stack seeded straight
 * into its moto by the product's own seed (sandbox/seed.ts, what `dbtunnel sandbox up --seed` creates: a
 * VPC and subnet, a running EC2 jump host, an RDS instance with IAM auth and a managed master password,
 * tagged like the real stack, the IAM database user and the pinned Port document) — or with `ecs: true`
 * an ECS Exec jump host (cluster, service and its running task) instead of the EC2 one — plus an outputs
 * JSON file with the contract's output names. Seconds instead of the minutes a `cdktf deploy` takes.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { EC2Client, StopInstancesCommand, TerminateInstancesCommand } from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteClusterCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import { DeleteDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { DeleteDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import type postgres from "postgres";
import { sessionDocumentNameFor } from "../../contract/outputs.ts";
import { ROLE_TAG, STACK_TAG } from "../../contract/tags.ts";
import type { Sandbox } from "../../sandbox/index.ts";
import { createSandboxStack, writeOutputsFile } from "../../sandbox/seed.ts";

const projectRoot = resolve(dirname(new URL(import.meta.url).pathname), "../..");

/** What the fixtures need from a sandbox (sandbox/index.ts `Sandbox` satisfies it). */
export interface FixtureSandbox {
  /** AWS_ENDPOINT_URL, credentials, AWS_REGION, DBTUNNEL_CA_BUNDLE, ... for SDK clients and the CLI. */
  readonly env: Record<string, string>;
  readonly region: string;
  readonly caBundlePath: string;
  /** Superuser SQL client for creating IAM login roles. */
  admin(): postgres.Sql;
  /** A second credential pair whose StartSession is denied, when the sandbox offers one. */
  readonly restrictedEnv?: Record<string, string>;
  /** Loopback port of the sandbox PostgreSQL (the "RDS" behind every endpoint), for baselines. */
  readonly postgresPort: number;
  /** Session Manager sessions not terminated yet (leftover check). */
  activeSessions(): string[];
  stop(): Promise<void>;
}

/**
 * Starts a sandbox for tests (`startSandbox()` from sandbox/index.ts) with a second, restricted credential
 * pair whose StartSession is denied, for the AccessDenied tests.
 */
export async function startFixtureSandbox(
  options: { region?: string; idleSessionTimeoutMs?: number } = {},
): Promise<FixtureSandbox> {
  const { startSandbox } = await import("../../sandbox/index.ts");
  const { generateSandboxCredentials } = await import("../../sandbox/credentials.ts");
  const restricted = generateSandboxCredentials();
  const sandbox = await startSandbox({
    region: options.region ?? "us-east-1",
    restrictedCredentials: restricted,
    ...(options.idleSessionTimeoutMs !== undefined
      ? { idleSessionTimeoutMs: options.idleSessionTimeoutMs }
      : {}),
    log: () => {},
  });
  return fixtureFromSandbox(sandbox, restricted);
}

/** Adapts a running sandbox (e.g. the e2e suite's own) to what the fixtures need. */
export function fixtureFromSandbox(
  sandbox: Sandbox,
  restricted?: {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
  },
): FixtureSandbox {
  const env: Record<string, string> = { ...sandbox.env };
  const clients: postgres.Sql[] = [];
  return {
    env,
    restrictedEnv: restricted
      ? {
          ...env,
          AWS_ACCESS_KEY_ID: restricted.accessKeyId,
          AWS_SECRET_ACCESS_KEY: restricted.secretAccessKey,
          AWS_SESSION_TOKEN: restricted.sessionToken ?? "",
        }
      : undefined,
    region: sandbox.region,
    caBundlePath: sandbox.caBundlePath,
    postgresPort: sandbox.postgres.port,
    activeSessions: () => sandbox.gateway.activeSessions(),
    admin() {
      const sql = sandbox.postgres.connect();
      clients.push(sql);
      return sql;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.end({ timeout: 1 })));
      await sandbox.stop();
    },
  };
}

/** SDK client settings for the sandbox's own (administrator) credentials: set-up, checks and faults from outside. */
export function adminClientConfig(sandbox: FixtureSandbox): {
  readonly region: string;
  readonly endpoint: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
} {
  return {
    region: sandbox.region,
    endpoint: sandbox.env.AWS_ENDPOINT_URL ?? "",
    credentials: {
      accessKeyId: sandbox.env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: sandbox.env.AWS_SECRET_ACCESS_KEY ?? "",
      ...(sandbox.env.AWS_SESSION_TOKEN ? { sessionToken: sandbox.env.AWS_SESSION_TOKEN } : {}),
    },
  };
}

export interface SeedStackOptions {
  /** @default `fx-<random>` */
  readonly stackName?: string;
  /** IAM login role created in PostgreSQL (GRANT rds_iam) and listed in db_iam_users. @default "app_user" */
  readonly dbUser?: string;
  /** Also create this role WITHOUT rds_iam (for the auth-failure test). */
  readonly userWithoutRdsIam?: string;
  /** @default "appdb" */
  readonly dbName?: string;
  /**
   * An ECS Exec jump host (cluster + service + one running task, as `modules/jumphost-ecs.ts` deploys it)
   * instead of the EC2 instance; the outputs say `jump_host_kind: "ecs"`. @default false
   */
  readonly ecs?: boolean;
  /** Leave the jump host stopped (the idle auto-stop case; for ECS: its service scaled in to 0). @default false */
  readonly stopped?: boolean;
  /** Directory for the outputs file. @default a new temp directory (removed by cleanup) */
  readonly dir?: string;
}

/** The ECS Exec jump host of a stack seeded with `ecs: true`. */
export interface SeededEcsJumpHost {
  readonly cluster: string;
  readonly service: string;
  readonly taskDefinitionArn: string;
  readonly taskArn: string;
  readonly taskId: string;
  /** The jump container's runtime id as DescribeTasks shows it through the sandbox. */
  readonly runtimeId: string;
  /** The StartSession target: `ecs:<cluster>_<taskId>_<runtimeId>`. */
  readonly target: string;
}

export interface SeededStack {
  readonly stackName: string;
  /** The EC2 jump host; "" for a stack seeded with `ecs: true`. */
  readonly instanceId: string;
  /** Present for a stack seeded with `ecs: true`. */
  readonly ecs?: SeededEcsJumpHost;
  readonly dbIdentifier: string;
  readonly endpoint: string;
  readonly port: number;
  readonly resourceId: string;
  readonly dbUser: string;
  readonly dbName: string;
  /** The contract's outputs for this stack. */
  readonly outputs: Record<string, unknown>;
  /** `{ "<stackName>": outputs }` written as cdktf would. */
  readonly outputsFile: string;
  cleanup(): Promise<void>;
}

/** Seeds one dbtunnel stack into the sandbox's moto (and its IAM login role into PostgreSQL). */
export async function seedStack(
  sandbox: FixtureSandbox,
  options: SeedStackOptions = {},
): Promise<SeededStack> {
  const stackName = options.stackName ?? `fx-${Math.random().toString(36).slice(2, 8)}`;
  const dbUser = options.dbUser ?? "app_user";
  const dbName = options.dbName ?? "appdb";
  const account = {
    AWS_ENDPOINT_URL: sandbox.env.AWS_ENDPOINT_URL ?? "",
    AWS_ACCESS_KEY_ID: sandbox.env.AWS_ACCESS_KEY_ID ?? "",
    AWS_SECRET_ACCESS_KEY: sandbox.env.AWS_SECRET_ACCESS_KEY ?? "",
    AWS_SESSION_TOKEN: sandbox.env.AWS_SESSION_TOKEN ?? "",
    AWS_REGION: sandbox.region,
  };
  const clientConfig = adminClientConfig(sandbox);
  // The product's own seed (what `dbtunnel sandbox up --seed` creates), with an ECS Exec jump host
  // instead of the EC2 one when asked.
  const stack = await createSandboxStack({
    env: account,
    admin: () => sandbox.admin(),
    stackName,
    dbUser,
    dbName,
    jumpHost: options.ecs ? "none" : "ec2",
  });
  const { instanceId, dbIdentifier, endpoint, port, resourceId } = stack;
  const sessionDocumentName = sessionDocumentNameFor(stackName);
  let ecs: SeededEcsJumpHost | undefined;
  const ec2 = new EC2Client(clientConfig);
  const ecsClient = new ECSClient(clientConfig);
  try {
    if (options.ecs) {
      const tags = (role: string) => [
        { Key: STACK_TAG, Value: stackName },
        { Key: ROLE_TAG, Value: role },
      ];
      ecs = await seedEcsJumpHost(ecsClient, stackName, tags, options.stopped ?? false);
    } else if (options.stopped) {
      await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    }
  } finally {
    ec2.destroy();
    ecsClient.destroy();
  }
  if (options.userWithoutRdsIam) {
    // A login role WITHOUT rds_iam (the auth-failure test).
    const sql = sandbox.admin();
    const role = options.userWithoutRdsIam;
    const [exists] = await sql`select 1 from pg_roles where rolname = ${role}`;
    if (!exists)
      await sql`create role ${sql(role)} login`.catch((error: { code?: string }) => {
        if (error.code !== "42710") throw error;
      });
  }
  const outputs = ecs
    ? {
        ...stack.outputs,
        jump_host_kind: "ecs",
        jump_host_instance_id: "",
        ecs_cluster: ecs.cluster,
        ecs_service: ecs.service,
      }
    : stack.outputs;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "dbtunnel-fixture-"));
  const outputsFile = writeOutputsFile(dir, stackName, outputs);

  return {
    stackName,
    instanceId,
    ...(ecs ? { ecs } : {}),
    dbIdentifier,
    endpoint,
    port,
    resourceId,
    dbUser,
    dbName,
    outputs,
    outputsFile,
    async cleanup() {
      const ec2c = new EC2Client(clientConfig);
      const rdsc = new RDSClient(clientConfig);
      const ecsc = new ECSClient(clientConfig);
      const ssmc = new SSMClient(clientConfig);
      await Promise.allSettled([
        instanceId ? ec2c.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })) : undefined,
        ecs ? removeEcsJumpHost(ecsc, ecs) : undefined,
        rdsc.send(
          new DeleteDBInstanceCommand({ DBInstanceIdentifier: dbIdentifier, SkipFinalSnapshot: true }),
        ),
        ssmc.send(new DeleteDocumentCommand({ Name: sessionDocumentName })),
      ]);
      ec2c.destroy();
      rdsc.destroy();
      ecsc.destroy();
      ssmc.destroy();
      if (!options.dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The ECS Exec jump host as `modules/jumphost-ecs.ts` names it (`<stack>-jumphost` cluster and service,
 * container `jumphost`), the service and its task tagged `dbtunnel:role=jump-host`. The sandbox gateway's
 * ECS scheduler runs the service's task (moto 5.2.1 does not); `stopped` scales the service in to 0.
 */
async function seedEcsJumpHost(
  ecs: ECSClient,
  stackName: string,
  tags: (role: string) => { Key: string; Value: string }[],
  stopped: boolean,
): Promise<SeededEcsJumpHost> {
  const name = `${stackName}-jumphost`;
  const ecsTags = (role: string) => tags(role).map((t) => ({ key: t.Key, value: t.Value }));
  await ecs.send(new CreateClusterCommand({ clusterName: name, tags: ecsTags("jump-host").slice(0, 1) }));
  const definition = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: name,
      containerDefinitions: [
        { name: "jumphost", image: "public.ecr.aws/amazonlinux/amazonlinux:2023", cpu: 256, memory: 512 },
      ],
    }),
  );
  const taskDefinition = definition.taskDefinition?.taskDefinitionArn ?? "";
  await ecs.send(
    new CreateServiceCommand({
      cluster: name,
      serviceName: name,
      taskDefinition,
      desiredCount: 1,
      launchType: "FARGATE",
      enableExecuteCommand: true,
      propagateTags: "SERVICE",
      tags: ecsTags("jump-host"),
    }),
  );
  const listed = await ecs.send(new ListTasksCommand({ cluster: name, serviceName: name }));
  const taskArn = listed.taskArns?.[0];
  if (!taskArn) throw new Error(`no task runs for service ${name}: is the sandbox gateway in front of moto?`);
  // What `dbtunnel connect` will read: DescribeTasks through the sandbox gateway (which adds runtime ids).
  const described = await ecs.send(new DescribeTasksCommand({ cluster: name, tasks: [taskArn] }));
  const runtimeId = described.tasks?.[0]?.containers?.[0]?.runtimeId;
  if (!runtimeId)
    throw new Error(
      `DescribeTasks shows no runtime id for ${taskArn}: is the sandbox gateway in front of moto?`,
    );
  const taskId = taskArn.split("/").pop() ?? taskArn;
  if (stopped) await ecs.send(new UpdateServiceCommand({ cluster: name, service: name, desiredCount: 0 }));
  return {
    cluster: name,
    service: name,
    taskDefinitionArn: taskDefinition,
    taskArn,
    taskId,
    runtimeId,
    target: `ecs:${name}_${taskId}_${runtimeId}`,
  };
}

async function removeEcsJumpHost(ecs: ECSClient, jumpHost: SeededEcsJumpHost): Promise<void> {
  const { cluster, service } = jumpHost;
  // In order: AWS refuses to delete a cluster that still has services (ClusterContainsServicesException).
  // Deleting the service stops its task (the gateway's scheduler, as ECS's).
  await ecs.send(new DeleteServiceCommand({ cluster, service, force: true })).catch(() => {});
  await ecs
    .send(new DeregisterTaskDefinitionCommand({ taskDefinition: jumpHost.taskDefinitionArn }))
    .catch(() => {});
  await ecs.send(new DeleteClusterCommand({ cluster })).catch(() => {});
}

export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI (`bun cli/main.ts ...`) as a subprocess with the given environment. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string | undefined>,
  options: { readonly timeoutMs?: number; readonly stdin?: string; readonly prefix?: readonly string[] } = {},
): Promise<CliRun> {
  const child = Bun.spawn(
    [...(options.prefix ?? []), process.execPath, join(projectRoot, "cli/main.ts"), ...args],
    {
      env: cleanEnv(env),
      stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
      stdout: "pipe",
      stderr: "pipe",
      cwd: projectRoot,
    },
  );
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
  try {
    const [stdout, stderr, exitCode] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    return { exitCode, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

/** The parent's environment minus any AWS/dbtunnel settings, plus `env` (undefined deletes). */
export function cleanEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(AWS_|DBTUNNEL_|PG)/.test(k)) out[k] = v;
  }
  out.NO_COLOR = "1";
  // Never read the developer's ~/.aws files in tests.
  out.AWS_CONFIG_FILE = "/dev/null";
  out.AWS_SHARED_CREDENTIALS_FILE = "/dev/null";
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}
