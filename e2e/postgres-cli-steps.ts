/**
 * PostgreSQL's part of the CLI steps (cli-steps.ts): `--listen` prints a verify-full connection string,
 * the master creates the IAM user with the README's SQL through the suite's psql, `connect --exec -- psql`
 * runs DDL + DML with the CLI's token, a login without hostaddr resolves the endpoint through a hosts
 * override, and postgres.js carries the bulk and concurrent checks.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FlowTarget } from "../cli/demo/flow.ts";
import type { FlowRun } from "../cli/demo/runner.ts";
import { type EngineCliSteps, type ExecContext, execThroughCli } from "./cli-steps.ts";
import {
  bulkRoundTrip,
  concurrentConnections,
  type DbContext,
  E2E_SCHEMA,
  iamWithHostsFile,
  negativeChecks,
  setupIamUser,
} from "./db-steps.ts";
import type { HostsOverride } from "./psql.ts";

export const postgresCliSteps: EngineCliSteps = {
  name: "PostgreSQL",
  titles: {
    listen: "dbtunnel connect --listen: a session for the suite's own client",
    setup: "create the IAM database user as master (own client)",
    exec: "dbtunnel connect --exec -- psql: IAM token + verify-full, DDL/DML",
  },
  extraChecks: [{ name: "iam-hosts-file", title: "IAM token + verify-full via hosts-file override" }],
  defaultDbName: "postgres",
  listenEnv: () => ({}),
  checkReady({ stack, ready, port }) {
    const connectionString = String(ready.connectionString ?? "");
    for (const part of [`host=${stack.target.db.endpoint}`, "sslmode=verify-full", `port=${port}`]) {
      if (!connectionString.includes(part))
        throw new Error(`connection string '${connectionString}' lacks ${part}`);
    }
    if (/password/i.test(connectionString)) throw new Error("dbtunnel connect --listen printed a password");
    return connectionString;
  },
  setup: setupIamUser,
  exec: psqlThroughCli,
  runExtraChecks: hostsFileCheck,
  bulk: (db) => bulkRoundTrip(db),
  concurrent: concurrentConnections,
  refusals: negativeChecks,
};

async function psqlThroughCli(ctx: ExecContext): Promise<string> {
  const sqlFile = join(ctx.scratch, "login.sql");
  writeFileSync(
    sqlFile,
    `SELECT current_user, s.ssl, s.version, current_setting('server_version')
       FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid();
     DROP TABLE IF EXISTS ${E2E_SCHEMA}.notes;
     CREATE TABLE ${E2E_SCHEMA}.notes (id int PRIMARY KEY, body text NOT NULL);
     INSERT INTO ${E2E_SCHEMA}.notes VALUES (1, 'one'), (2, 'two'), (3, 'three');
     UPDATE ${E2E_SCHEMA}.notes SET body = 'TWO' WHERE id = 2;
     DELETE FROM ${E2E_SCHEMA}.notes WHERE id = 3;
     SELECT string_agg(id || '=' || body, ',' ORDER BY id) FROM ${E2E_SCHEMA}.notes;
     SELECT current_setting('application_name') = 'psql', inet_server_port();\n`,
  );
  const { rows } = await execThroughCli(
    ctx,
    [],
    ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-f", sqlFile],
  );
  const [user, ssl, tlsVersion, serverVersion] = rows[0] ?? [];
  if (user !== ctx.iamUser)
    throw new Error(`psql under --exec logged in as '${user}', expected '${ctx.iamUser}'`);
  if (ssl !== "t") throw new Error("pg_stat_ssl says the --exec connection is not encrypted");
  const data = rows.at(-2)?.[0];
  if (data !== "1=one,2=TWO")
    throw new Error(`DDL/DML round trip returned '${data}', expected '1=one,2=TWO'`);
  return `${user} over ${tlsVersion} to PostgreSQL ${serverVersion}; DDL + DML ok; exit 0`;
}

async function hostsFileCheck(run: FlowRun, db: DbContext, target: FlowTarget): Promise<void> {
  await run.check("iam-hosts-file", async () => {
    const override: HostsOverride =
      target === "sandbox" || process.env.DBTUNNEL_E2E_HOSTS !== "system"
        ? { kind: "namespace", address: "127.0.0.1" }
        : { kind: "system", address: "127.0.0.1" };
    return iamWithHostsFile(db, override);
  });
}
