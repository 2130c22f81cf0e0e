/**
 * `dbtunnel connect` and `dbtunnel token` against MySQL in the sandbox (MariaDB playing RDS MySQL, IAM
 * tokens checked by the sandbox verifier), with the real client: hostname verification through a private
 * hosts namespace (no sudo, machine hosts file untouched), the token only inside verified TLS.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSandboxCa } from "../sandbox/ca.ts";
import { type Sandbox, startSandbox } from "../sandbox/index.ts";
import { cleanEnv, fixtureFromSandbox, type SeededStack, seedStack } from "../test-support/cli/fixtures.ts";
import { CLI, expectNoSecrets } from "../test-support/cli/helpers.ts";
import { type SeededMysql, seedMysqlDatabase } from "../test-support/cli/mysql-stack.ts";
import { runMysql } from "../test-support/sandbox/mysql-client.ts";

let sandbox: Sandbox;
let stack: SeededStack;
let mysql: SeededMysql;
let dir: string;
const machineHosts = readFileSync("/etc/hosts", "utf8");

async function cli(
  args: readonly string[],
  opts: { stdin?: string; env?: Record<string, string>; prefix?: readonly string[] } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = Bun.spawn([...(opts.prefix ?? []), ...CLI, ...args], {
    env: cleanEnv({ ...sandbox.env, ...opts.env }),
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

const mysqlTempDirs = () => readdirSync(tmpdir()).filter((n) => /^dbtunnel-(mysql|hosts)-/.test(n));

beforeAll(async () => {
  sandbox = await startSandbox({ region: "eu-west-1", log: () => {} });
  stack = await seedStack(fixtureFromSandbox(sandbox));
  mysql = await seedMysqlDatabase(sandbox, stack, { iamUsers: ["app_user", "reporter"] });
  dir = mkdtempSync(join(tmpdir(), "dbtunnel-connect-mysql-"));
}, 90_000);

afterAll(async () => {
  await mysql?.cleanup();
  await stack?.cleanup();
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(readFileSync("/etc/hosts", "utf8")).toBe(machineHosts);
});

describe("dbtunnel connect to MySQL", () => {
  test("the mysql client logs in with an IAM token over TLS with the endpoint name verified, through a private hosts file", async () => {
    const before = mysqlTempDirs();
    const result = await cli(["connect", "-o", mysql.outputsFile, "--user", "app_user", "--verbose"], {
      stdin: "SELECT CURRENT_USER(), DATABASE(); SHOW STATUS LIKE 'Ssl_version';\n",
    });
    expect(result.stderr).toContain("name resolution: private-hosts, client mysql (mariadb)");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("app_user@%\tshop");
    expect(result.stdout).toMatch(/Ssl_version\tTLSv1\.[23]/);
    expectNoSecrets(result.stdout + result.stderr, { ...sandbox.env });
    expect(readFileSync("/etc/hosts", "utf8")).toBe(machineHosts);
    expect(mysqlTempDirs()).toEqual(before);
  }, 60_000);

  test("--exec gets MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_PWD and an option file both client flavours use; nothing is left behind", async () => {
    const before = mysqlTempDirs();
    const result = await cli(
      [
        "connect",
        "-o",
        mysql.outputsFile,
        "--user",
        "reporter",
        "--exec",
        "--",
        "sh",
        "-c",
        'echo "host=$MYSQL_HOST"; [ "$(printf %s "$MYSQL_PWD" | wc -c)" -gt 1000 ] && echo long-token; mariadb -N -e "select current_user()"; mysql --defaults-extra-file="$DBTUNNEL_MYSQL_CNF" -N -e "select database()"; grep -c ssl-verify-server-cert "$DBTUNNEL_MYSQL_CNF"',
      ],
      {},
    );
    expect(result.stderr).not.toContain("ERROR");
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual([
      `host=${mysql.endpoint}`,
      "long-token",
      "reporter@%",
      "shop",
      "1",
    ]);
    expect(mysqlTempDirs()).toEqual(before);
  }, 60_000);

  test("a user not created with AWSAuthenticationPlugin: the server's refusal, explained in one line", async () => {
    const result = await cli(["connect", "-o", mysql.outputsFile, "--user", "intruder"], {
      stdin: "SELECT 1;\n",
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("Access denied for user 'intruder'");
    expect(result.stderr).toContain(
      "The database refused the IAM token for user 'intruder': check the user was created IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
    );
  }, 60_000);

  test("a CA bundle that did not sign the server certificate: TLS refused before any token is sent", async () => {
    const other = await createSandboxCa({ dir, region: "eu-west-1" });
    const result = await cli(
      ["connect", "-o", mysql.outputsFile, "--user", "app_user", "--ca-bundle", other.caCertPath],
      { stdin: "SELECT 1;\n" },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("TLS verification of");
  }, 60_000);

  test("no sudo: an unprivileged user connects through the private hosts namespace", async () => {
    const home = mkdtempSync(join(tmpdir(), "dbtunnel-nobody-"));
    chmodSync(home, 0o777);
    // The fixture's outputs file lives in a private temp directory: hand nobody a readable copy.
    const outputs = join(home, "outputs.json");
    copyFileSync(mysql.outputsFile, outputs);
    chmodSync(outputs, 0o644);
    try {
      const result = await cli(
        [
          "connect",
          "-o",
          outputs,
          "--user",
          "app_user",
          "--exec",
          "--",
          "sh",
          "-c",
          'id -un; mariadb -N -e "select current_user()"',
        ],
        { prefix: ["runuser", "-u", "nobody", "--"], env: { HOME: home } },
      );
      expect(result.stderr).not.toContain("ERROR");
      expect(result.code).toBe(0);
      expect(result.stdout.trim().split("\n")).toEqual(["nobody", "app_user@%"]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("dbtunnel token for MySQL", () => {
  test("prints a token for the endpoint on 3306 that the server accepts", async () => {
    const result = await cli(["token", "-o", mysql.outputsFile, "--user", "app_user"]);
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    expect(token.startsWith(`${mysql.endpoint}:3306/?Action=connect&DBUser=app_user&`)).toBe(true);
    const login = await runMysql({
      host: mysql.endpoint,
      port: (await sandbox.mysql()).port,
      user: "app_user",
      password: token,
      caPath: sandbox.caBundlePath,
      sql: "SELECT CURRENT_USER()",
    });
    expect(login.err).toBe("");
    expect(login.out).toBe("app_user@%");
    expect(existsSync(sandbox.caBundlePath)).toBe(true);
  }, 60_000);
});
