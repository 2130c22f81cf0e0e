/**
 * The MySQL proxy against the sandbox MariaDB playing RDS MySQL (TLS from the sandbox CA, IAM tokens
 * checked by its verifier), with the real `mariadb` client talking plain mysql_native_password to the
 * proxy: no cleartext plugin, no token, no certificate on the client side.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { CreateDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { generateToken } from "../cli/pipeline/index.ts";
import { type Sandbox, startSandbox } from "../sandbox/index.ts";
import { runMysql } from "../test-support/sandbox/mysql-client.ts";
import { until } from "../test-support/wait.ts";
import { type RunningProxy, startProxy } from "./server.ts";
import type { LocalAuth, ProxyEvent, UpstreamTarget } from "./types.ts";

let sandbox: Sandbox;
let endpoint: string;
const SECRET = "mysql-local-proxy-secret-0123456789ab";
const running: RunningProxy[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ log: () => {} });
  Object.assign(process.env, sandbox.env);
  const config = { endpoint: sandbox.motoUrl, region: sandbox.region, credentials: sandbox.credentials };
  const created = await new RDSClient(config).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: "shop",
      Engine: "mysql",
      EngineVersion: "8.0.40",
      DBInstanceClass: "db.t4g.micro",
      AllocatedStorage: 20,
      DBName: "app",
      MasterUsername: "dbadmin",
      ManageMasterUserPassword: true,
      EnableIAMDatabaseAuthentication: true,
    }),
  );
  endpoint = created.DBInstance?.Endpoint?.Address ?? "";
  const secret = await new SecretsManagerClient(config).send(
    new GetSecretValueCommand({ SecretId: created.DBInstance?.MasterUserSecret?.SecretArn ?? "" }),
  );
  const masterPassword = (JSON.parse(secret.SecretString ?? "{}") as { password: string }).password;
  await sandbox.mirror.resolveDestination(endpoint, 3306);
  const server = await sandbox.mysql();
  const made = await runMysql({
    host: endpoint,
    port: server.port,
    user: "dbadmin",
    password: masterPassword,
    caPath: sandbox.caBundlePath,
    database: "app",
    sql: "CREATE USER 'alice'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'; GRANT ALL ON app.* TO 'alice'@'%'",
  });
  if (made.code !== 0) throw new Error(`creating the IAM user failed: ${made.err}`);
}, 120_000);

afterAll(async () => {
  await Promise.all(running.map((p) => p.close()));
  await sandbox?.stop();
});

function upstream(): UpstreamTarget {
  return {
    engine: "mysql",
    endpoint,
    port: 3306,
    ca: readFileSync(sandbox.caBundlePath, "utf8"),
    streams: {
      async open() {
        const to = await sandbox.mirror.resolveDestination(endpoint, 3306);
        return new Promise((resolve, reject) => {
          const socket = connectTcp(to.port, to.host, () => resolve(socket));
          socket.once("error", reject);
        });
      },
    },
    tokens: (user) => generateToken({ endpoint, port: 3306, user, region: sandbox.region }),
  };
}

async function proxy(auth: LocalAuth = { kind: "secret", secret: SECRET }) {
  const events: ProxyEvent[] = [];
  const p = await startProxy({ upstream: upstream(), auth, onEvent: (e) => events.push(e) });
  running.push(p);
  return { port: p.port, events };
}

/** The real client as a GUI user would run it: 127.0.0.1, a user, the local secret, no SSL options. */
function spawnMariadb(port: number, user: string, password: string, sql: string) {
  return Bun.spawn(
    [
      "mariadb",
      "--no-defaults",
      "--host=127.0.0.1",
      `--port=${port}`,
      `--user=${user}`,
      "--skip-ssl",
      "--batch",
      "--skip-column-names",
      "app",
      "-e",
      sql,
    ],
    {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MYSQL_PWD: password },
      stdout: "pipe",
      stderr: "pipe",
    },
  );
}

async function mariadb(port: number, user: string, password: string, sql: string) {
  const child = spawnMariadb(port, user, password, sql);
  const [code, out, err] = await Promise.all([
    child.exited,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  return { code, out: out.trim(), err: err.trim() };
}

describe("MySQL proxy", () => {
  test("the mariadb client logs in with the local secret; the server sees an IAM login over TLS", async () => {
    const { port } = await proxy();
    const result = await mariadb(
      port,
      "alice",
      SECRET,
      "CREATE TABLE IF NOT EXISTS t (id INT PRIMARY KEY, v TEXT); REPLACE INTO t VALUES (1, 'via proxy'); SELECT CURRENT_USER(), v FROM t; SHOW STATUS LIKE 'Ssl_version'",
    );
    expect(result.err).toBe("");
    expect(result.out.split("\n")).toEqual([
      "alice@%\tvia proxy",
      expect.stringMatching(/^Ssl_version\tTLSv1\.[23]$/),
    ]);
  }, 30_000);

  test("a wrong secret is refused by the proxy with the fix; nothing reaches the database", async () => {
    const { port, events } = await proxy();
    const result = await mariadb(port, "alice", "someone-elses-secret-0123456789abcdef", "SELECT 1");
    expect(result.code).not.toBe(0);
    expect(result.err).toContain("ERROR 1045 (28000): Access denied for user 'alice' at the dbtunnel proxy");
    expect(result.err).toContain("dbtunnel proxy --show-secret");
    expect(events.some((e) => e.type === "client-refused")).toBe(true);
  }, 30_000);

  test("a user without IAM authentication gets the server's refusal with what to check", async () => {
    const { port } = await proxy();
    const result = await mariadb(port, "dbadmin", SECRET, "SELECT 1");
    expect(result.code).not.toBe(0);
    expect(result.err).toContain(
      "ERROR 1045 (28000): the database asked 'dbadmin' for mysql_native_password, not an IAM token",
    );
    expect(result.err).toContain("AWSAuthenticationPlugin");
  }, 30_000);

  test("a large result and many statements relay intact", async () => {
    const { port } = await proxy({ kind: "none" });
    const result = await mariadb(
      port,
      "alice",
      "",
      "SELECT COUNT(*), SUM(LENGTH(x)) FROM (SELECT REPEAT('x', 1000) AS x FROM information_schema.columns a, information_schema.columns b LIMIT 5000) s",
    );
    expect(result.err).toBe("");
    expect(result.out).toBe("5000\t5000000");
  }, 30_000);

  test("Ctrl-C in the mariadb client stops its query: the client's KILL QUERY names the server's thread", async () => {
    const { port } = await proxy();
    const sleeper = spawnMariadb(port, "alice", SECRET, "SELECT SLEEP(60) AS sleeping_for_the_kill_test");
    try {
      const running = async () =>
        (
          await mariadb(
            port,
            "alice",
            SECRET,
            "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(60) AS sleeping%'",
          )
        ).out === "1";
      await until(running, 20_000);
      const started = performance.now();
      sleeper.kill("SIGINT"); // the client opens a second connection and sends KILL QUERY <its thread id>
      const [code, err] = await Promise.all([sleeper.exited, new Response(sleeper.stderr).text()]);
      expect(err).toContain("Query execution was interrupted");
      expect(code).not.toBe(0);
      expect(performance.now() - started).toBeLessThan(20_000);
      expect(await running()).toBe(false);
    } finally {
      sleeper.kill("SIGKILL");
    }
  }, 60_000);
});
