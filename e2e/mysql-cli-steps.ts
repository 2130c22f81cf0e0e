/**
 * MySQL's part of the CLI steps (cli-steps.ts): `--listen` maps the endpoint in a scratch hosts file
 * (MySQL clients have no hostaddr; tools connect later, outside any namespace), the master creates the IAM
 * user with the README's SQL (AWSAuthenticationPlugin), and `connect --exec -- mariadb` logs in with the
 * CLI's token, its TLS verified against the CA bundle and the endpoint name, the client run in the CLI's
 * private hosts namespace. The suite's own mariadb runs in its own namespace (mysql-steps.ts).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type EngineCliSteps, type ExecContext, execThroughCli } from "./cli-steps.ts";
import {
  bulkRoundTripMysql,
  concurrentConnectionsMysql,
  negativeChecksMysql,
  setupIamUserMysql,
} from "./mysql-steps.ts";

export const mysqlCliSteps: EngineCliSteps = {
  name: "MySQL",
  titles: {
    listen: "dbtunnel connect --listen: a session for the suite's own mysql client",
    setup: "create the IAM user as master (AWSAuthenticationPlugin, own client)",
    exec: "dbtunnel connect --exec -- mariadb: IAM token + TLS with hostname verification, DDL/DML",
  },
  extraChecks: [],
  defaultDbName: "mysql",
  listenEnv(scratch) {
    const hostsFile = join(scratch, "hosts");
    writeFileSync(hostsFile, "127.0.0.1 localhost\n");
    return { DBTUNNEL_HOSTS_FILE: hostsFile };
  },
  checkReady: () => "",
  setup: setupIamUserMysql,
  exec: mariadbThroughCli,
  runExtraChecks: async () => {},
  bulk: (db) => bulkRoundTripMysql(db),
  concurrent: concurrentConnectionsMysql,
  refusals: negativeChecksMysql,
};

async function mariadbThroughCli(ctx: ExecContext): Promise<string> {
  const sql = [
    "SELECT CURRENT_USER(), VERSION()",
    "SHOW STATUS LIKE 'Ssl_version'",
    "DROP TABLE IF EXISTS notes",
    "CREATE TABLE notes (id INT PRIMARY KEY, body TEXT NOT NULL)",
    "INSERT INTO notes VALUES (1, 'one'), (2, 'two'), (3, 'three')",
    "UPDATE notes SET body = 'TWO' WHERE id = 2",
    "DELETE FROM notes WHERE id = 3",
    "SELECT GROUP_CONCAT(CONCAT(id, '=', body) ORDER BY id) FROM notes",
  ].join("; ");
  // The CLI's own choices: the private hosts namespace, --ssl-verify-server-cert, MYSQL_PWD = token.
  const { rows, stderr } = await execThroughCli(
    ctx,
    ["--verbose"],
    ["mariadb", "--batch", "--skip-column-names", "-e", sql],
  );
  if (!stderr.includes("name resolution: private-hosts"))
    throw new Error("dbtunnel connect did not run the client in its private hosts namespace");
  const [current = "", serverVersion = ""] = rows[0] ?? [];
  const tlsVersion = rows[1]?.[1] ?? "";
  if (current !== `${ctx.iamUser}@%`)
    throw new Error(`mariadb under --exec logged in as '${current}', expected '${ctx.iamUser}@%'`);
  if (!tlsVersion.startsWith("TLS"))
    throw new Error("Ssl_version is empty: the --exec login is not encrypted");
  const data = rows.at(-1)?.[0];
  if (data !== "1=one,2=TWO")
    throw new Error(`DDL/DML round trip returned '${data}', expected '1=one,2=TWO'`);
  return `${current} over ${tlsVersion} to MySQL ${serverVersion}; name verified (--ssl-verify-server-cert); DDL + DML ok`;
}
