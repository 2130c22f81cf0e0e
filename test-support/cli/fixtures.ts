/**
 * Test fixtures for the CLI, e2e and bench suites: a sandbox account and a dbtunnel stack seeded straight
 * into its moto with the AWS SDK (a VPC and subnet, a running EC2 jump host — or with `ecs: true` an ECS
 * Exec jump host: cluster, service and one running task — and an RDS instance with IAM auth and a managed
 * master password, tagged like the real stack), plus an outputs JSON file with the contract's output
 * names. Seconds instead of the minutes a `cdktf deploy` takes.
 */

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
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
import {
  CreateDBInstanceCommand,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import {
  CreateDocumentCommand,
  DeleteDocumentCommand,
  GetParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import type postgres from "postgres";
import { sessionDocumentNameFor } from "../../contract/outputs.ts";
import { hostPatternFragment, pinnedPortDocument } from "../../contract/session-document.ts";
import { IAM_USERS_TAG, iamUsersTagValue } from "../../contract/tags.ts";
import type { Sandbox } from "../../sandbox/index.ts";

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
  const dbIdentifier = `${stackName}-db`;
  const clientConfig = {
    region: sandbox.region,
    endpoint: sandbox.env.AWS_ENDPOINT_URL,
    credentials: {
      accessKeyId: sandbox.env.AWS_ACCESS_KEY_ID ?? "",
      secretAccessKey: sandbox.env.AWS_SECRET_ACCESS_KEY ?? "",
      sessionToken: sandbox.env.AWS_SESSION_TOKEN,
    },
  };
  const ec2 = new EC2Client(clientConfig);
  const rds = new RDSClient(clientConfig);
  const ssm = new SSMClient(clientConfig);
  const ecsClient = new ECSClient(clientConfig);
  const tags = (role: string) => [
    { Key: "dbtunnel:stack", Value: stackName },
    { Key: "dbtunnel:role", Value: role },
  ];
  try {
    const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.42.0.0/16" }));
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: "10.42.1.0/24" }),
    );
    let instanceId = "";
    let ecs: SeededEcsJumpHost | undefined;
    if (options.ecs) {
      ecs = await seedEcsJumpHost(ecsClient, stackName, tags, options.stopped ?? false);
    } else {
      const run = await ec2.send(
        new RunInstancesCommand({
          ImageId: await amazonLinuxImage(ssm, ec2),
          InstanceType: "t3.micro",
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnet.Subnet?.SubnetId,
          TagSpecifications: [
            {
              ResourceType: "instance",
              Tags: [...tags("jump-host"), { Key: "Name", Value: `${stackName}-jump-host` }],
            },
          ],
        }),
      );
      instanceId = run.Instances?.[0]?.InstanceId ?? "";
      if (!instanceId) throw new Error("moto RunInstances returned no instance");
      if (options.stopped) await ec2.send(new StopInstancesCommand({ InstanceIds: [instanceId] }));
    }

    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: dbIdentifier,
        Engine: "postgres",
        EngineVersion: "15.5",
        DBInstanceClass: "db.t3.micro",
        AllocatedStorage: 20,
        MasterUsername: "dbadmin",
        ManageMasterUserPassword: true,
        EnableIAMDatabaseAuthentication: true,
        DBName: dbName,
        StorageEncrypted: true,
        PubliclyAccessible: false,
        Tags: [...tags("database"), { Key: IAM_USERS_TAG, Value: iamUsersTagValue([dbUser]) }],
      }),
    );
    const described = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: dbIdentifier }));
    const db = described.DBInstances?.[0];
    const endpoint = db?.Endpoint?.Address;
    if (!db || !endpoint) throw new Error(`moto returned no endpoint for ${dbIdentifier}`);
    const port = db.Endpoint?.Port ?? 5432;

    // The login role, as the stack's database bootstrap would create it (rds_iam may not exist before the
    // first dial through the sandbox, so create it the same idempotent way the sandbox mirror does).
    const sql = sandbox.admin();
    await sql.unsafe(
      "do $$ begin if not exists (select 1 from pg_roles where rolname = 'rds_iam') then create role rds_iam nologin; end if; end $$",
    );
    for (const role of [dbUser, options.userWithoutRdsIam].filter((r): r is string => !!r)) {
      const [exists] = await sql`select 1 from pg_roles where rolname = ${role}`;
      // Two stacks seeded at once may both see no role: the loser's "already exists" (42710) is success.
      if (!exists)
        await sql`create role ${sql(role)} login`.catch((error: { code?: string }) => {
          if (error.code !== "42710") throw error;
        });
    }
    await sql`grant rds_iam to ${sql(dbUser)}`;

    // The stack's pinned Port document, as PortForwardingDocument creates it.
    const sessionDocumentName = sessionDocumentNameFor(stackName);
    await ssm.send(
      new CreateDocumentCommand({
        Name: sessionDocumentName,
        DocumentType: "Session",
        DocumentFormat: "JSON",
        Content: JSON.stringify(
          pinnedPortDocument({
            description: `fixture: ${stackName} database only`,
            defaultHost: endpoint,
            hostAlternatives: hostPatternFragment(endpoint),
            port: String(port),
          }),
        ),
      }),
    );

    const outputs = {
      stack_name: stackName,
      region: sandbox.region,
      jump_host_kind: ecs ? "ecs" : "ec2",
      jump_host_instance_id: instanceId,
      ecs_cluster: ecs?.cluster ?? "",
      ecs_service: ecs?.service ?? "",
      db_engine: "postgres",
      db_identifier: dbIdentifier,
      db_endpoint: endpoint,
      db_port: port,
      db_resource_id: db.DbiResourceId ?? "",
      db_name: dbName,
      db_iam_users: [dbUser],
      db_master_username: db.MasterUsername ?? "dbadmin",
      db_master_secret_arn: db.MasterUserSecret?.SecretArn ?? "",
      engineer_policy_arn: `arn:aws:iam::123456789012:policy/${stackName}-engineer`,
      session_document_name: sessionDocumentName,
    };
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), "dbtunnel-fixture-"));
    const outputsFile = join(dir, `${stackName}.outputs.json`);
    writeFileSync(outputsFile, `${JSON.stringify({ [stackName]: outputs }, null, 2)}\n`);

    return {
      stackName,
      instanceId,
      ...(ecs ? { ecs } : {}),
      dbIdentifier,
      endpoint,
      port,
      resourceId: db.DbiResourceId ?? "",
      dbUser,
      dbName,
      outputs,
      outputsFile,
      async cleanup() {
        const cleanupConfig = { ...clientConfig };
        const ec2c = new EC2Client(cleanupConfig);
        const rdsc = new RDSClient(cleanupConfig);
        const ecsc = new ECSClient(cleanupConfig);
        await Promise.allSettled([
          instanceId ? ec2c.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })) : undefined,
          ecs ? removeEcsJumpHost(ecsc, ecs) : undefined,
          rdsc.send(
            new DeleteDBInstanceCommand({ DBInstanceIdentifier: dbIdentifier, SkipFinalSnapshot: true }),
          ),
          new SSMClient(cleanupConfig).send(new DeleteDocumentCommand({ Name: sessionDocumentName })),
        ]);
        ec2c.destroy();
        rdsc.destroy();
        ecsc.destroy();
        if (!options.dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
      },
    };
  } finally {
    ec2.destroy();
    rds.destroy();
    ssm.destroy();
    ecsClient.destroy();
  }
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

/**
 * The AMI the stack itself uses (public SSM parameter, which moto resolves). Listing every Amazon image
 * instead returns over a thousand and costs seconds.
 */
async function amazonLinuxImage(ssm: SSMClient, ec2: EC2Client): Promise<string> {
  try {
    const parameter = await ssm.send(
      new GetParameterCommand({
        Name: "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
      }),
    );
    if (parameter.Parameter?.Value) return parameter.Parameter.Value;
  } catch {}
  const images = await ec2.send(
    new DescribeImagesCommand({ Owners: ["amazon"], Filters: [{ Name: "name", Values: ["al2023-ami-*"] }] }),
  );
  const imageId = images.Images?.[0]?.ImageId;
  if (!imageId) throw new Error("moto lists no Amazon Linux image to start the jump host from");
  return imageId;
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
