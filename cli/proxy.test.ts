/**
 * `dbtunnel proxy` end to end: the real CLI as a subprocess, the native tunnel through the sandbox's
 * Session Manager emulator, verified TLS and IAM tokens checked by the sandbox, and the clients GUIs and
 * apps use: psql, pgbench (16 clients), pg_dump, the PostgreSQL JDBC driver on Java 17.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SSMClient, TerminateSessionCommand } from "@aws-sdk/client-ssm";
import postgres from "postgres";
import {
  adminClientConfig,
  type FixtureSandbox,
  runCli,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { expectNoSecrets, failureLine, type LiveCli, startCli } from "../test-support/cli/helpers.ts";
import { waitFor } from "../test-support/wait.ts";

let sandbox: FixtureSandbox;
let stack: SeededStack;
let home: string;
let engineerA: Record<string, string>;
let engineerB: Record<string, string>;
let proxy: LiveCli;
let port: number;
let secretA: string;

const JDBC_JAR = "/usr/share/java/postgresql.jar";

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "dbtunnel-proxy-cli-"));
  sandbox = await startFixtureSandbox();
  stack = await seedStack(sandbox, { userWithoutRdsIam: "no_iam_user" });
  engineerA = { ...sandbox.env, DBTUNNEL_CONFIG_DIR: join(home, "a") };
  engineerB = { ...sandbox.env, DBTUNNEL_CONFIG_DIR: join(home, "b") };
  proxy = startCli(["proxy", "--outputs", stack.outputsFile, "--json"], engineerA);
  const out = await proxy.waitForStdout((s) => s.includes('"type":"listening"'), 30_000);
  const listening = out
    .split("\n")
    .filter((l) => l.includes('"type":"listening"'))
    .map((l) => JSON.parse(l) as { port: number })[0];
  port = listening?.port ?? 0;
  secretA = (await runCli(["proxy", "--show-secret"], engineerA)).stdout.trim();
}, 60_000);

afterAll(async () => {
  proxy?.kill("SIGTERM");
  await proxy?.exited;
  await stack?.cleanup();
  await sandbox?.stop();
  rmSync(home, { recursive: true, force: true });
});

async function run(command: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn(command, {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return { code, out, err };
}

const conninfo = () =>
  `host=127.0.0.1 port=${port} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`;

describe("dbtunnel proxy", () => {
  test("the first JSON event is 'listening' with the GUI settings, and no secret or token", () => {
    const first = JSON.parse(
      proxy
        .stdout()
        .split("\n")
        .find((l) => l.startsWith("{")) ?? "{}",
    );
    const listening = proxy
      .stdout()
      .split("\n")
      .filter((l) => l.includes('"type":"listening"'))
      .map((l) => JSON.parse(l))[0];
    expect(first.type).toBe("listening");
    expect(listening).toMatchObject({
      type: "listening",
      host: "127.0.0.1",
      port,
      user: stack.dbUser,
      database: stack.dbName,
      ssl: "disable",
      password: { command: "dbtunnel proxy --show-secret" },
      jdbcUrl: `jdbc:postgresql://127.0.0.1:${port}/${stack.dbName}?sslmode=disable`,
    });
    expect(proxy.stdout()).not.toContain(secretA);
    expectNoSecrets(proxy.stdout() + proxy.stderr(), sandbox.env);
  });

  test("--show-secret creates the secret once, 0600, and prints the same one again", async () => {
    expect(secretA).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const mode = statSync(join(engineerA.DBTUNNEL_CONFIG_DIR ?? "", "proxy-secret")).mode & 0o777;
    expect(mode).toBe(0o600);
    expect((await runCli(["proxy", "--show-secret"], engineerA)).stdout.trim()).toBe(secretA);
  });

  test("psql through the proxy: verified TLS upstream and an IAM login, with the local secret as password", async () => {
    const result = await run(
      [
        "psql",
        conninfo(),
        "-XAtc",
        "select current_user || '|' || ssl from pg_stat_ssl where pid = pg_backend_pid()",
      ],
      { PGPASSWORD: secretA },
    );
    expect(result.err).toBe("");
    expect(result.out.trim()).toBe(`${stack.dbUser}|true`);
    await proxy.waitForStdout((s) => s.includes('"type":"client-authenticated"'));
  }, 30_000);

  test("two engineers on one machine: the other engineer's secret is refused", async () => {
    const secretB = (await runCli(["proxy", "--show-secret"], engineerB)).stdout.trim();
    expect(secretB).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(secretB).not.toBe(secretA);
    const result = await run(["psql", conninfo(), "-XAtc", "select 1"], { PGPASSWORD: secretB });
    expect(result.code).not.toBe(0);
    expect(result.err).toContain("password authentication failed");
    expect(result.err).toContain("dbtunnel proxy --show-secret");
    await proxy.waitForStdout((s) => s.includes('"type":"client-refused"'));
  }, 30_000);

  test("pgbench -S with 16 clients through the proxy: 0 failed", async () => {
    const env = { PGPASSWORD: secretA };
    // The IAM user may create tables (pgbench's and pg_dump's fixtures) in its own database.
    await sandbox.admin().unsafe(`alter database ${stack.dbName} owner to ${stack.dbUser}`);
    const init = await run(["pgbench", "-i", "-s", "1", "-q", conninfo()], env);
    expect(init.code).toBe(0);
    const bench = await run(["pgbench", "-S", "-c", "16", "-j", "2", "-t", "20", "-n", conninfo()], env);
    expect(bench.err).not.toContain("error");
    expect(bench.code).toBe(0);
    expect(bench.out).toContain("number of transactions actually processed: 320/320");
    expect(bench.out).toMatch(/number of failed transactions: 0 /);
  }, 60_000);

  test("pg_dump of a schema through the proxy", async () => {
    const env = { PGPASSWORD: secretA };
    const made = await run(
      [
        "psql",
        conninfo(),
        "-Xqc",
        "create schema if not exists proxy_dump; create table if not exists proxy_dump.t (id int primary key, note text); insert into proxy_dump.t values (1, 'through the proxy') on conflict do nothing",
      ],
      env,
    );
    expect(made.err).toBe("");
    const dump = await run(["pg_dump", "--schema=proxy_dump", conninfo()], env);
    expect(dump.err).toBe("");
    expect(dump.code).toBe(0);
    expect(dump.out).toContain("CREATE TABLE proxy_dump.t");
    expect(dump.out).toContain("through the proxy");
  }, 60_000);

  test("the PostgreSQL JDBC driver (what DBeaver and DataGrip use) connects with the JDBC URL", async () => {
    const url = `jdbc:postgresql://127.0.0.1:${port}/${stack.dbName}?sslmode=disable`;
    const result = await run(
      [
        "java",
        "-cp",
        JDBC_JAR,
        join(import.meta.dir, "../test-support/proxy/ProxyJdbcCheck.java"),
        url,
        stack.dbUser,
      ],
      { PROXY_PASSWORD: secretA },
    );
    expect(result.err).toBe("");
    expect(result.out.trim()).toBe(`${stack.dbUser}|${stack.dbName}|true`);
  }, 60_000);

  test("a query cancelled from the client reaches the server through the session", async () => {
    const sql = postgres({
      host: "127.0.0.1",
      port,
      user: stack.dbUser,
      password: secretA,
      database: stack.dbName,
      ssl: false,
      max: 1,
    });
    try {
      await sql`select 1`;
      const query = sql`select pg_sleep(30)`;
      const outcome = query.then(
        () => "finished",
        (error: { code?: string }) => error.code,
      );
      // Cancel once the server runs the query (not while it is still on its way).
      const admin = sandbox.admin();
      expect(
        await waitFor(async () => {
          const rows =
            await admin`select 1 from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'`;
          return rows.length > 0;
        }, 10_000),
      ).toBe(true);
      query.cancel();
      expect(await outcome).toBe("57014");
      await proxy.waitForStdout((s) => s.includes('"type":"cancel-forwarded"'));
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 30_000);

  test("the server's refusal reaches the client: a user without rds_iam", async () => {
    const result = await run(
      [
        "psql",
        `host=127.0.0.1 port=${port} user=no_iam_user dbname=${stack.dbName} sslmode=disable`,
        "-XAtc",
        "select 1",
      ],
      { PGPASSWORD: secretA },
    );
    expect(result.code).not.toBe(0);
    expect(result.err).toContain(
      'the database asked user "no_iam_user" for a password (SCRAM), not an IAM token',
    );
    expect(result.err).toContain('GRANT rds_iam TO "no_iam_user"');
  }, 30_000);

  test("the proxy outlives its session: after the session is terminated the next client gets a new one", async () => {
    const [before] = sandbox.activeSessions();
    expect(before).toBeDefined();
    const ssm = new SSMClient(adminClientConfig(sandbox));
    try {
      await ssm.send(new TerminateSessionCommand({ SessionId: before }));
    } finally {
      ssm.destroy();
    }
    await proxy.waitForStdout((s) => s.includes("Session closed"), 15_000);
    expect(await waitFor(() => !sandbox.activeSessions().includes(before ?? ""), 10_000)).toBe(true);
    const result = await run(["psql", conninfo(), "-XAtc", "select 'again'"], { PGPASSWORD: secretA });
    expect(result.err).toBe("");
    expect(result.out.trim()).toBe("again");
    expect(sandbox.activeSessions().length).toBe(1);
    expect(sandbox.activeSessions()[0]).not.toBe(before);
  }, 40_000);

  test("--sessions 2 spreads the proxy over two sessions; a bad count is one usage line", async () => {
    const bad = await runCli(["proxy", "-o", stack.outputsFile, "--sessions", "0"], engineerA);
    expect(bad.exitCode).toBe(2);
    expect(failureLine(bad.stderr)).toBe(
      "--sessions must be a number from 1 to 32, got '0' (see 'dbtunnel proxy --help')",
    );
    const before = sandbox.activeSessions().length;
    const two = startCli(["proxy", "-o", stack.outputsFile, "--sessions", "2", "--json"], engineerA);
    try {
      const out = await two.waitForStdout((s) => s.includes('"type":"listening"'), 30_000);
      const twoPort = JSON.parse(out.split("\n").find((l) => l.includes('"type":"listening"')) ?? "{}").port;
      expect(sandbox.activeSessions().length).toBe(before + 2);
      const result = await run(
        [
          "psql",
          `host=127.0.0.1 port=${twoPort} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
          "-XAtc",
          "select 2",
        ],
        { PGPASSWORD: secretA },
      );
      expect(result.out.trim()).toBe("2");
    } finally {
      two.kill("SIGINT");
    }
    expect(await two.exited).toBe(0);
    expect(await waitFor(() => sandbox.activeSessions().length === before, 10_000)).toBe(true);
  }, 60_000);

  test("Ctrl-C stops the proxy: exit 0, the session terminated, the port closed", async () => {
    const second = startCli(["proxy", "-o", stack.outputsFile, "--local-port", "0"], engineerA).exited.catch(
      () => 2,
    );
    expect(await second).toBe(2); // --local-port 0 is refused (a free port is the default)
    proxy.kill("SIGINT");
    expect(await proxy.exited).toBe(0);
    expect(await waitFor(() => sandbox.activeSessions().length === 0, 10_000)).toBe(true);
    const after = await run(["psql", conninfo(), "-XAtc", "select 1"], {
      PGPASSWORD: secretA,
      PGCONNECT_TIMEOUT: "3",
    });
    expect(after.code).not.toBe(0);
  }, 30_000);
});
