/**
 * A MySQL database next to a seeded stack's jump host (test-support/cli/fixtures.ts seedStack), with an IAM user
 * made the RDS way, and an outputs file that points the CLI at it.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CreateDBInstanceCommand, DeleteDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import type { Sandbox } from "../../sandbox/index.ts";

export interface SeededMysql {
  readonly identifier: string;
  readonly endpoint: string;
  readonly port: number;
  readonly dbName: string;
  readonly outputsFile: string;
  readonly outputs: Record<string, unknown>;
  cleanup(): Promise<void>;
}

export async function seedMysqlDatabase(
  sandbox: Sandbox,
  stack: {
    readonly stackName: string;
    readonly outputs: Record<string, unknown>;
    readonly outputsFile: string;
  },
  options: { readonly iamUsers: readonly string[]; readonly dbName?: string },
): Promise<SeededMysql> {
  const identifier = `${stack.stackName}-mysql`;
  const dbName = options.dbName ?? "shop";
  const rds = new RDSClient({
    endpoint: sandbox.motoUrl,
    region: sandbox.region,
    credentials: sandbox.credentials,
  });
  const created = await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: identifier,
      Engine: "mysql",
      EngineVersion: "8.0.40",
      DBInstanceClass: "db.t4g.micro",
      AllocatedStorage: 20,
      DBName: dbName,
      MasterUsername: "dbadmin",
      ManageMasterUserPassword: true,
      EnableIAMDatabaseAuthentication: true,
      Tags: [
        { Key: "dbtunnel:stack", Value: `${stack.stackName}-mysql` },
        { Key: "dbtunnel:role", Value: "database" },
      ],
    }),
  );
  const db = created.DBInstance;
  const endpoint = db?.Endpoint?.Address ?? "";
  const port = db?.Endpoint?.Port ?? 3306;
  // What the platform team runs once as the master user (README, deploy step 4).
  await sandbox.mirror.resolveDestination(endpoint, port);
  const server = await sandbox.mysql();
  await server.sql(
    options.iamUsers
      .map(
        (user) =>
          `CREATE USER '${user}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'; GRANT ALL ON \`${dbName}\`.* TO '${user}'@'%';`,
      )
      .join("\n"),
  );
  // The PostgreSQL stack's pinned Port document names its own endpoint: this database has none of its own
  // (an older stack's outputs), so sessions use the generic document, as seedStack's sandbox allows.
  const { session_document_name: _pinnedToPostgres, ...jumpHostOutputs } = stack.outputs;
  const outputs = {
    ...jumpHostOutputs,
    stack_name: `${stack.stackName}-mysql`,
    db_engine: "mysql",
    db_identifier: identifier,
    db_endpoint: endpoint,
    db_port: port,
    db_resource_id: db?.DbiResourceId ?? "",
    db_name: dbName,
    db_iam_users: [...options.iamUsers],
    db_master_username: "dbadmin",
    db_master_secret_arn: db?.MasterUserSecret?.SecretArn ?? "",
  };
  const outputsFile = join(dirname(stack.outputsFile), `${stack.stackName}-mysql.outputs.json`);
  writeFileSync(outputsFile, `${JSON.stringify({ [outputs.stack_name]: outputs }, null, 2)}\n`);
  return {
    identifier,
    endpoint,
    port,
    dbName,
    outputsFile,
    outputs,
    async cleanup() {
      await rds
        .send(new DeleteDBInstanceCommand({ DBInstanceIdentifier: identifier, SkipFinalSnapshot: true }))
        .catch(() => {});
    },
  };
}
