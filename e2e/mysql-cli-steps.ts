/**
 * The suite's steps for the MySQL variant, the twin of cli-steps.ts: the real `dbtunnel` CLI holds a
 * session (`connect --listen`) that the suite's own mariadb client uses, and `connect --exec -- mariadb`
 * logs in with the CLI's token, its TLS verified against the CA bundle and the endpoint name, the client
 * run in the CLI's private hosts namespace. The assertions are the suite's.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { masterLogin } from "../cli/demo/database.ts";
import type { DeployedStack, FlowExtension, FlowTarget } from "../cli/demo/flow.ts";
import type { FlowRun, PlannedStep } from "../cli/demo/runner.ts";
import { PROJECT_ROOT } from "../cli/demo/terraform.ts";
import {
  CLI,
  cliEnv,
  eventually,
  type ListeningCli,
  lastLine,
  planIsClean,
  startListening,
  within,
} from "./cli-steps.ts";
import type { DbContext } from "./db-steps.ts";
import {
  bulkRoundTripMysql,
  concurrentConnectionsMysql,
  negativeChecksMysql,
  setupIamUserMysql,
} from "./mysql-steps.ts";

const CONNECT: readonly PlannedStep[] = [
  { name: "cli-listen", title: "dbtunnel connect --listen: a session for the suite's own mysql client" },
  { name: "db-setup", title: "create the IAM user as master (AWSAuthenticationPlugin, own client)" },
  {
    name: "cli-exec",
    title: "dbtunnel connect --exec -- mariadb: IAM token + TLS with hostname verification, DDL/DML",
  },
  { name: "bulk-16mib", title: "16 MiB round trip checked by sha256" },
  { name: "concurrent-16", title: "16 concurrent connections over one session" },
  { name: "refusals", title: "other user's token, expired token, wrong CA, wrong name are refused" },
  { name: "cli-close", title: "Ctrl-C closes the --listen session; the gateway has none left" },
];

export function mysqlSuiteSteps(target: FlowTarget): FlowExtension {
  return {
    afterDeploySteps: [
      { name: "plan-clean", title: "second plan is clean (terraform plan -detailed-exitcode)" },
    ],
    afterDeploy: (run, stack) => run.check("plan-clean", () => planIsClean(stack, run.signal)),
    connectSteps: CONNECT,
    connect: (run, stack) => connectMysqlThroughCli(run, stack, target),
  };
}

async function connectMysqlThroughCli(run: FlowRun, stack: DeployedStack, target: FlowTarget): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "dbtunnel-e2e-mysql-"));
  // `--listen` on MySQL maps the endpoint in a hosts file (tools connect later, outside any namespace):
  // give it a scratch one, the suite's own client resolves the name in its own namespace.
  const hostsFile = join(scratch, "hosts");
  writeFileSync(hostsFile, "127.0.0.1 localhost\n");
  const env = { ...cliEnv(stack, target), DBTUNNEL_HOSTS_FILE: hostsFile };
  const iamUser = stack.target.db.iamUsers[0];
  if (!iamUser) throw new Error("output db_iam_users names no IAM database user");
  const caBundlePath = stack.caBundlePath;
  if (!caBundlePath) throw new Error("no CA bundle (DBTUNNEL_CA_BUNDLE) for TLS verification");
  let listening: ListeningCli | undefined;
  let db: DbContext | undefined;
  let sessionId = "";
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not available (an earlier step did not provide it)`);
    return value;
  };
  try {
    await run.step("cli-listen", async () => {
      const cli = startListening(stack, env);
      listening = cli;
      const exitedEarly = cli.exited.then((code) => {
        throw new Error(`dbtunnel connect --listen exited ${code}: ${lastLine(cli.stderr())}`);
      });
      const ready = await Promise.race([
        eventually(
          () => cli.events.find((e) => e.type === "ready"),
          target === "aws" ? 600_000 : 90_000,
          "'ready' event from dbtunnel connect --listen",
        ),
        exitedEarly,
      ]);
      exitedEarly.catch(() => {});
      sessionId = String(cli.events.find((e) => e.type === "session")?.sessionId ?? "");
      const port = Number(ready.port);
      if (!Number.isInteger(port) || port <= 0)
        throw new Error(`the ready event has no port: ${JSON.stringify(ready)}`);
      if (/X-Amz-Signature/i.test(JSON.stringify(cli.events)))
        throw new Error("dbtunnel connect --listen printed a token");
      db = {
        endpoint: stack.target.db.endpoint,
        port: stack.target.db.port,
        localPort: port,
        dbname: stack.target.db.name ?? "mysql",
        region: stack.target.region,
        caBundlePath,
        iamUser,
        credentials: stack.credentials,
      };
      return `session ${sessionId} on 127.0.0.1:${port} → ${stack.target.db.endpoint}:${stack.target.db.port}`;
    });

    await run.step("db-setup", async () => {
      const master = await masterLogin(stack.clients.secrets, stack.target, stack.outputs);
      return setupIamUserMysql(need(db, "the --listen session"), master);
    });

    await run.step("cli-exec", async () => {
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
      const cliOnly = cliEnv(stack, target);
      const child = Bun.spawn(
        [
          ...CLI,
          "connect",
          "--outputs",
          stack.outputsFile,
          "--user",
          iamUser,
          "--verbose",
          "--exec",
          "--",
          "mariadb",
          "--batch",
          "--skip-column-names",
          "-e",
          sql,
        ],
        { env: cliOnly, cwd: PROJECT_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
      );
      const [out, err, code] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      if (code !== 0) throw new Error(`dbtunnel connect --exec exited ${code}: ${lastLine(err)}`);
      if (/X-Amz-Signature/.test(out + err)) throw new Error("dbtunnel connect --exec printed a token");
      if (!err.includes("name resolution: private-hosts"))
        throw new Error("dbtunnel connect did not run the client in its private hosts namespace");
      const rows = out
        .trim()
        .split("\n")
        .map((l) => l.split("\t"));
      const [current = "", serverVersion = ""] = rows[0] ?? [];
      const tlsVersion = rows[1]?.[1] ?? "";
      if (current !== `${iamUser}@%`)
        throw new Error(`mariadb under --exec logged in as '${current}', expected '${iamUser}@%'`);
      if (!tlsVersion.startsWith("TLS"))
        throw new Error("Ssl_version is empty: the --exec login is not encrypted");
      const data = rows.at(-1)?.[0];
      if (data !== "1=one,2=TWO")
        throw new Error(`DDL/DML round trip returned '${data}', expected '1=one,2=TWO'`);
      return `${current} over ${tlsVersion} to MySQL ${serverVersion}; name verified (--ssl-verify-server-cert); DDL + DML ok`;
    });

    await run.check("bulk-16mib", async () => bulkRoundTripMysql(need(db, "the --listen session")));
    await run.check("concurrent-16", async () => {
      const cli = need(listening, "the --listen session");
      const opened = () =>
        cli.events.filter((e) => e.type === "tunnel" && e.event === "connection-opened").length;
      const before = opened();
      const { detail } = await concurrentConnectionsMysql(need(db, "the --listen session"), 16);
      await eventually(
        () => (opened() - before >= 16 ? true : undefined),
        5000,
        `16 connection-opened events from dbtunnel connect --listen (saw ${opened() - before})`,
      );
      const sessions = stack.sandbox?.gateway?.activeSessions();
      if (sessions && (sessions.length !== 1 || sessions[0] !== sessionId))
        throw new Error(`expected exactly session ${sessionId} at the gateway, saw ${sessions.join(", ")}`);
      return `${detail}, all on session ${sessionId}`;
    });
    await run.check("refusals", async (ctx) => {
      const evidence = await negativeChecksMysql(need(db, "the --listen session"));
      ctx.note(evidence.join("\n"));
      return `${evidence.length - 1} refusals for the right reason`;
    });

    await run.step("cli-close", async () => {
      const cli = need(listening, "the --listen session");
      listening = undefined;
      cli.process.kill("SIGINT");
      const code = await within(cli.exited, 10_000, "dbtunnel connect --listen exiting on Ctrl-C");
      if (code !== 0)
        throw new Error(`dbtunnel connect --listen exited ${code} on Ctrl-C: ${lastLine(cli.stderr())}`);
      const gateway = stack.sandbox?.gateway;
      if (gateway) {
        await eventually(
          () => (gateway.activeSessions().includes(sessionId) ? undefined : true),
          5000,
          `end of session ${sessionId} at the gateway`,
        );
      }
      return "exit 0; no session left";
    });
  } finally {
    const cli = listening;
    if (cli) {
      cli.process.kill("SIGINT");
      await within(cli.exited, 5000, "dbtunnel connect --listen exiting").catch(() =>
        cli.process.kill("SIGKILL"),
      );
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}
