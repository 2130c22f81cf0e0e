/**
 * `dbtunnel sandbox up --seed` (and the test fixtures' stacks): a ready dbtunnel stack in the sandbox in
 * seconds, through the AWS APIs (no Terraform): a VPC and subnet, a running EC2 jump host and an RDS PostgreSQL instance with IAM
 * authentication and a managed master password, both tagged as the real stack tags them, the IAM database
 * user, and an outputs file with the contract's outputs. What `npm run demo` deploys in minutes, minus
 * the network hardening nobody can use in a sandbox.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from "@aws-sdk/client-rds";
import { CreateDocumentCommand, GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type postgres from "postgres";
import { type StackOutputValues, sessionDocumentNameFor } from "../contract/outputs.ts";
import { partitionOfRegion } from "../contract/partitions.ts";
import { hostPatternFragment, pinnedPortDocument } from "../contract/session-document.ts";
import { IAM_USERS_TAG, iamUsersTagValue, ROLE_TAG, ROLES, STACK_TAG } from "../contract/tags.ts";
import type { SandboxEnv } from "./index.ts";

/** Where the seed's AWS calls go and as whom: the sandbox's gateway and credentials. */
export type SeedAccount = Pick<
  SandboxEnv,
  "AWS_ENDPOINT_URL" | "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN" | "AWS_REGION"
>;

export interface SeedOptions {
  /** The sandbox's environment (endpoint, credentials, region). */
  readonly env: SeedAccount;
  /** Superuser connection to the sandbox PostgreSQL, for the IAM database user (ended once it is made). */
  readonly admin: () => postgres.Sql;
  /** Directory of the outputs file. */
  readonly dir: string;
  /** @default "sandbox-demo" */
  readonly stackName?: string;
  /** @default "app_engineer" */
  readonly dbUser?: string;
  /** @default "app" */
  readonly dbName?: string;
}

export interface SeedResult {
  readonly status: "seeded" | "already-seeded";
  readonly stackName: string;
  readonly outputsFile: string;
  readonly dbUser: string;
}

/** One stack's resources as createSandboxStack made them. */
export interface SandboxStack {
  /** The EC2 jump host; "" with `jumpHost: "none"`. */
  readonly instanceId: string;
  readonly dbIdentifier: string;
  readonly endpoint: string;
  readonly port: number;
  readonly resourceId: string;
  /** The contract's outputs (an EC2 jump host's; with `jumpHost: "none"` the caller fills in its own). */
  readonly outputs: StackOutputValues;
}

export interface SandboxStackOptions {
  readonly env: SeedAccount;
  readonly admin: () => postgres.Sql;
  /** Lower-case letters, digits and '-', at most 40. */
  readonly stackName: string;
  readonly dbUser: string;
  readonly dbName: string;
  /**
   * "ec2": a running EC2 jump host; "none": the caller adds its own (the test fixtures' ECS Exec jump
   * host). @default "ec2"
   */
  readonly jumpHost?: "ec2" | "none";
}

const STACK_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const DB_USER_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export async function seedSandboxStack(options: SeedOptions): Promise<SeedResult> {
  const stackName = options.stackName ?? "sandbox-demo";
  const dbUser = options.dbUser ?? "app_engineer";
  const dbName = options.dbName ?? "app";
  const outputsFile = outputsFilePath(options.dir, stackName);
  const rds = new RDSClient(clientConfig(options.env));
  try {
    checkNames(stackName, dbUser);
    if (existsSync(outputsFile) && (await databaseExists(rds, `${stackName}-db`))) {
      return { status: "already-seeded", stackName, outputsFile, dbUser: seededUser(outputsFile) ?? dbUser };
    }
  } finally {
    rds.destroy();
  }
  const stack = await createSandboxStack({
    env: options.env,
    admin: options.admin,
    stackName,
    dbUser,
    dbName,
  });
  writeOutputsFile(options.dir, stackName, stack.outputs);
  return { status: "seeded", stackName, outputsFile, dbUser };
}

/**
 * Creates one dbtunnel stack through the AWS APIs, tagged as the real stack tags it: a VPC and subnet, the
 * jump host, an RDS PostgreSQL instance with IAM authentication and a managed master password, the IAM
 * database user (GRANT rds_iam) and the stack's pinned Port document. `sandbox up --seed` and the test
 * fixtures (test-support/cli/fixtures.ts) both seed with it.
 */
export async function createSandboxStack(options: SandboxStackOptions): Promise<SandboxStack> {
  const { stackName, dbUser, dbName } = options;
  checkNames(stackName, dbUser);
  const region = options.env.AWS_REGION;
  const dbIdentifier = `${stackName}-db`;
  const config = clientConfig(options.env);
  const ec2 = new EC2Client(config);
  const rds = new RDSClient(config);
  const ssm = new SSMClient(config);
  const sts = new STSClient(config);
  try {
    const tags = (role: string) => [
      { Key: STACK_TAG, Value: stackName },
      { Key: ROLE_TAG, Value: role },
    ];
    const vpc = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: "10.40.0.0/16",
        TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: STACK_TAG, Value: stackName }] }],
      }),
    );
    const subnet = await ec2.send(
      new CreateSubnetCommand({ VpcId: vpc.Vpc?.VpcId, CidrBlock: "10.40.1.0/24" }),
    );
    const account = sts.send(new GetCallerIdentityCommand({})).then((id) => id.Account ?? "");
    account.catch(() => {}); // awaited below; a failure must not surface as unhandled meanwhile
    let instanceId = "";
    if ((options.jumpHost ?? "ec2") === "ec2") {
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
              Tags: [...tags(ROLES.jumpHost), { Key: "Name", Value: `${stackName}-jump-host` }],
            },
          ],
        }),
      );
      instanceId = run.Instances?.[0]?.InstanceId ?? "";
      if (!instanceId) throw new Error("the sandbox's RunInstances returned no instance");
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
        Tags: [...tags(ROLES.database), { Key: IAM_USERS_TAG, Value: iamUsersTagValue([dbUser]) }],
      }),
    );
    const described = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: dbIdentifier }));
    const db = described.DBInstances?.[0];
    const endpoint = db?.Endpoint?.Address;
    if (!db || !endpoint) throw new Error(`the sandbox returned no endpoint for ${dbIdentifier}`);

    await createIamUser(options.admin(), dbUser);
    // The stack's pinned Port document (what PortForwardingDocument creates): the only one its engineers may use.
    const port = db.Endpoint?.Port ?? 5432;
    const sessionDocumentName = sessionDocumentNameFor(stackName);
    await ssm.send(
      new CreateDocumentCommand({
        Name: sessionDocumentName,
        DocumentType: "Session",
        DocumentFormat: "JSON",
        Content: JSON.stringify(
          pinnedPortDocument({
            description: `dbtunnel sandbox: port forwarding to the ${stackName} database only`,
            defaultHost: endpoint,
            hostAlternatives: hostPatternFragment(endpoint),
            port: String(port),
          }),
        ),
      }),
    );

    const outputs: StackOutputValues = {
      stack_name: stackName,
      region,
      jump_host_kind: "ec2",
      jump_host_instance_id: instanceId,
      ecs_cluster: "",
      ecs_service: "",
      db_engine: "postgres",
      db_identifier: dbIdentifier,
      db_endpoint: endpoint,
      db_port: port,
      db_resource_id: db.DbiResourceId ?? "",
      db_name: dbName,
      db_iam_users: [dbUser],
      db_master_username: db.MasterUsername ?? "dbadmin",
      db_master_secret_arn: db.MasterUserSecret?.SecretArn ?? "",
      engineer_policy_arn: `arn:${partitionOfRegion(region)}:iam::${await account}:policy/${stackName}-engineer`,
      session_document_name: sessionDocumentName,
    };
    return { instanceId, dbIdentifier, endpoint, port, resourceId: db.DbiResourceId ?? "", outputs };
  } finally {
    for (const client of [ec2, rds, ssm, sts]) client.destroy();
  }
}

/** `<dir>/<stack>.outputs.json`: where writeOutputsFile puts a stack's outputs. */
export function outputsFilePath(dir: string, stackName: string): string {
  return join(dir, `${stackName}.outputs.json`);
}

/** Writes `{ "<stack>": outputs }` as `cdktf output --outputs-file` does; returns the file. */
export function writeOutputsFile(dir: string, stackName: string, outputs: StackOutputValues): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = outputsFilePath(dir, stackName);
  writeFileSync(file, `${JSON.stringify({ [stackName]: outputs }, null, 2)}\n`);
  return file;
}

function checkNames(stackName: string, dbUser: string): void {
  if (!STACK_NAME_PATTERN.test(stackName)) {
    throw new Error(
      `stack name '${stackName}' is not valid: use lower-case letters, digits and '-', at most 40`,
    );
  }
  if (!DB_USER_PATTERN.test(dbUser)) {
    throw new Error(`database user '${dbUser}' is not valid: use lower-case letters, digits and '_'`);
  }
}

function clientConfig(env: SeedAccount) {
  return {
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    },
    maxAttempts: 1,
  };
}

async function databaseExists(rds: RDSClient, identifier: string): Promise<boolean> {
  try {
    const found = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
    return (found.DBInstances?.length ?? 0) > 0;
  } catch {
    return false;
  }
}

function seededUser(outputsFile: string): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(outputsFile, "utf8")) as Record<
      string,
      { db_iam_users?: unknown }
    >;
    const users = Object.values(parsed)[0]?.db_iam_users;
    return Array.isArray(users) && typeof users[0] === "string" ? users[0] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The IAM database user as a platform team creates it (`CREATE USER ... ; GRANT rds_iam ...`). The sandbox
 * plays RDS, whose `rds_iam` role always exists; create it the idempotent way the sandbox mirror does.
 */
async function createIamUser(sql: postgres.Sql, user: string): Promise<void> {
  try {
    await sql.unsafe(
      "do $$ begin if not exists (select 1 from pg_roles where rolname = 'rds_iam') then create role rds_iam nologin; end if; end $$",
    );
    const [exists] = await sql`select 1 from pg_roles where rolname = ${user}`;
    // Two stacks seeded at once may both see no role: the loser's "already exists" (42710) is success.
    if (!exists)
      await sql`create role ${sql(user)} login`.catch((error: { code?: string }) => {
        if (error.code !== "42710") throw error;
      });
    await sql`grant rds_iam to ${sql(user)}`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** The AMI the stack uses (public SSM parameter); a listing of Amazon images when the parameter is absent. */
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
  if (!imageId) throw new Error("the sandbox lists no Amazon Linux image to start the jump host from");
  return imageId;
}
