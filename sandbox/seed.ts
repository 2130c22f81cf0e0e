/**
 * `dbtunnel sandbox up --seed`: a ready dbtunnel stack in the sandbox in seconds, through the AWS APIs
 * (no Terraform): a VPC and subnet, a running EC2 jump host and an RDS PostgreSQL instance with IAM
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

export interface SeedOptions {
  /** The sandbox's environment (endpoint, credentials, region). */
  readonly env: SandboxEnv;
  /** Superuser connection to the sandbox PostgreSQL, for the IAM database user. */
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

const STACK_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
const DB_USER_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

export async function seedSandboxStack(options: SeedOptions): Promise<SeedResult> {
  const stackName = options.stackName ?? "sandbox-demo";
  const dbUser = options.dbUser ?? "app_engineer";
  const dbName = options.dbName ?? "app";
  if (!STACK_NAME_PATTERN.test(stackName)) {
    throw new Error(
      `stack name '${stackName}' is not valid: use lower-case letters, digits and '-', at most 40`,
    );
  }
  if (!DB_USER_PATTERN.test(dbUser)) {
    throw new Error(`database user '${dbUser}' is not valid: use lower-case letters, digits and '_'`);
  }
  const region = options.env.AWS_REGION;
  const outputsFile = join(options.dir, `${stackName}.outputs.json`);
  const dbIdentifier = `${stackName}-db`;
  const config = {
    region,
    endpoint: options.env.AWS_ENDPOINT_URL,
    credentials: {
      accessKeyId: options.env.AWS_ACCESS_KEY_ID,
      secretAccessKey: options.env.AWS_SECRET_ACCESS_KEY,
      sessionToken: options.env.AWS_SESSION_TOKEN,
    },
    maxAttempts: 1,
  };
  const ec2 = new EC2Client(config);
  const rds = new RDSClient(config);
  const ssm = new SSMClient(config);
  const sts = new STSClient(config);
  try {
    if (existsSync(outputsFile) && (await databaseExists(rds, dbIdentifier))) {
      return { status: "already-seeded", stackName, outputsFile, dbUser: seededUser(outputsFile) ?? dbUser };
    }
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
    const [imageId, account] = await Promise.all([
      amazonLinuxImage(ssm, ec2),
      sts.send(new GetCallerIdentityCommand({})).then((id) => id.Account ?? ""),
    ]);
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
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
    const instanceId = run.Instances?.[0]?.InstanceId;
    if (!instanceId) throw new Error("the sandbox's RunInstances returned no instance");
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
      db_port: db.Endpoint?.Port ?? 5432,
      db_resource_id: db.DbiResourceId ?? "",
      db_name: dbName,
      db_iam_users: [dbUser],
      db_master_username: db.MasterUsername ?? "dbadmin",
      db_master_secret_arn: db.MasterUserSecret?.SecretArn ?? "",
      engineer_policy_arn: `arn:${partitionOfRegion(region)}:iam::${account}:policy/${stackName}-engineer`,
      session_document_name: sessionDocumentName,
    };
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    writeFileSync(outputsFile, `${JSON.stringify({ [stackName]: outputs }, null, 2)}\n`);
    return { status: "seeded", stackName, outputsFile, dbUser };
  } finally {
    for (const client of [ec2, rds, ssm, sts]) client.destroy();
  }
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
    if (!exists) await sql`create role ${sql(user)} login`;
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
