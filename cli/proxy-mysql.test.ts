/**
 * `dbtunnel proxy` and `dbtunnel up` for MySQL through the Session Manager emulator: the real `mariadb`
 * client logs in to 127.0.0.1 with the local secret (no cleartext plugin, no token, no hosts entry); the
 * proxy verifies the sandbox MariaDB's certificate for the endpoint name and logs in with an IAM token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sandbox, startSandbox } from "../sandbox/index.ts";
import { fixtureFromSandbox, runCli, type SeededStack, seedStack } from "../test-support/cli/fixtures.ts";
import { expectNoSecrets, startCli } from "../test-support/cli/helpers.ts";
import { type SeededMysql, seedMysqlDatabase } from "../test-support/cli/mysql-stack.ts";
import { waitFor } from "../test-support/wait.ts";

let sandbox: Sandbox;
let stack: SeededStack;
let mysql: SeededMysql;
let dir: string;
let env: Record<string, string>;
let secret: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dbtunnel-proxy-mysql-"));
  sandbox = await startSandbox({ log: () => {} });
  stack = await seedStack(fixtureFromSandbox(sandbox));
  mysql = await seedMysqlDatabase(sandbox, stack, { iamUsers: ["app_user"] });
  env = { ...sandbox.env, DBTUNNEL_CONFIG_DIR: join(dir, "config") };
  secret = (await runCli(["proxy", "--show-secret"], env)).stdout.trim();
}, 120_000);

afterAll(async () => {
  await mysql?.cleanup();
  await stack?.cleanup();
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function mariadb(port: number, password: string, sql: string) {
  const child = Bun.spawn(
    [
      "mariadb",
      "--no-defaults",
      "--host=127.0.0.1",
      `--port=${port}`,
      "--user=app_user",
      "--skip-ssl",
      "--batch",
      "--skip-column-names",
      mysql.dbName,
      "-e",
      sql,
    ],
    {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MYSQL_PWD: password },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return { code, out: out.trim(), err: err.trim() };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const LISTENING = '"type":"listening"';

describe("dbtunnel proxy for MySQL", () => {
  test("the mariadb client logs in with the local secret; the server sees the IAM user over TLS", async () => {
    const proxy = startCli(["proxy", "-o", mysql.outputsFile, "--json"], env);
    try {
      const out = await proxy.waitForStdout((s) => s.includes(LISTENING), 30_000);
      const listening = JSON.parse(out.split("\n").find((l) => l.includes(LISTENING)) ?? "{}");
      expect(listening).toMatchObject({
        engine: "mysql",
        user: "app_user",
        database: mysql.dbName,
        ssl: "disable",
      });
      const ok = await mariadb(
        listening.port,
        secret,
        "SELECT CURRENT_USER(); SHOW STATUS LIKE 'Ssl_version'",
      );
      expect(ok.err).toBe("");
      expect(ok.out.split("\n")).toEqual(["app_user@%", expect.stringMatching(/^Ssl_version\tTLSv1\.[23]$/)]);
      const wrong = await mariadb(listening.port, "not-the-secret-0123456789abcdefgh", "SELECT 1");
      expect(wrong.code).not.toBe(0);
      expect(wrong.err).toContain("Access denied for user 'app_user' at the dbtunnel proxy");
      expectNoSecrets(proxy.stdout() + proxy.stderr(), { ...sandbox.env });
    } finally {
      proxy.kill("SIGINT");
    }
    expect(await proxy.exited).toBe(0);
    expect(await waitFor(() => sandbox.gateway.activeSessions().length === 0, 10_000)).toBe(true);
  }, 60_000);

  test("dbtunnel up with a PostgreSQL and a MySQL target behind one jump host: two proxies, two sessions", async () => {
    const [pgPort, myPort] = [await freePort(), await freePort()];
    const profile = join(dir, "mixed.json");
    writeFileSync(
      profile,
      JSON.stringify({
        targets: [
          {
            name: "pg",
            outputs: stack.outputsFile,
            user: stack.dbUser,
            database: stack.dbName,
            localPort: pgPort,
          },
          { name: "shop", outputs: mysql.outputsFile, user: "app_user", localPort: myPort },
        ],
      }),
    );
    const up = startCli(["up", profile, "--json"], env);
    try {
      await up.waitForStdout((s) => s.includes('"type":"ready"'), 40_000);
      expect(sandbox.gateway.activeSessions().length).toBe(2);
      const my = await mariadb(myPort, secret, "SELECT CURRENT_USER()");
      expect(my).toEqual({ code: 0, out: "app_user@%", err: "" });
      const pg = Bun.spawn(
        [
          "psql",
          `host=127.0.0.1 port=${pgPort} user=${stack.dbUser} dbname=${stack.dbName} sslmode=disable`,
          "-XAtc",
          "select current_user",
        ],
        {
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGPASSWORD: secret },
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      expect((await new Response(pg.stdout).text()).trim()).toBe(stack.dbUser);
    } finally {
      up.kill("SIGINT");
    }
    expect(await up.exited).toBe(0);
  }, 90_000);
});
