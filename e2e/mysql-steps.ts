/**
 * The database steps of the flow for MySQL targets (the ecs-mysql variant), the twins of db-steps.ts:
 * the real mysql/mariadb client through the tunnel, TLS verified against the CA bundle AND the endpoint
 * name (`--ssl-verify-server-cert`; MySQL clients have no hostaddr, so each call runs in a private mount
 * namespace where the endpoint resolves to 127.0.0.1), IAM tokens as cleartext passwords inside that TLS.
 */
import { createHash, randomBytes } from "node:crypto";
import { mysqlUserSql } from "../contract/database-users.ts";
import { type MysqlResult, runMysql } from "../test-support/sandbox/mysql-client.ts";
import type { DbContext } from "./db-steps.ts";
import { freshToken, type Login, refusals } from "./refusals.ts";

/** MySQL user names the stack config may give: letters, digits, underscores (checked before reaching SQL). */
const SAFE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

function safe(name: string, what: string): string {
  if (!SAFE_NAME.test(name)) throw new Error(`${what} '${name}' is not a plain MySQL identifier`);
  return name;
}

interface Call {
  readonly user: string;
  readonly password: string;
  readonly sql: string;
  readonly host?: string;
  readonly caPath?: string;
  readonly stdin?: boolean;
}

function mysql(db: DbContext, call: Call): Promise<MysqlResult> {
  return runMysql({
    host: call.host ?? db.endpoint,
    port: db.localPort,
    user: call.user,
    password: call.password,
    caPath: call.caPath ?? db.caBundlePath,
    database: db.dbname,
    sql: call.sql,
    ...(call.stdin ? { stdin: call.sql } : {}),
    extraArgs: ["--max-allowed-packet=64M"],
  });
}

function firstLine(text: string): string {
  return (text.split("\n").find((l) => l.trim() !== "") ?? "").trim();
}

async function mysqlOk(db: DbContext, call: Call): Promise<string[][]> {
  const r = await mysql(db, call);
  if (r.code !== 0) throw new Error(`mysql as ${call.user} failed: ${firstLine(r.err) || `exit ${r.code}`}`);
  return r.out === "" ? [] : r.out.split("\n").map((line) => line.split("\t"));
}

async function mysqlRefused(db: DbContext, call: Call, expected: RegExp): Promise<string> {
  const r = await mysql(db, { ...call, sql: "SELECT 1" });
  const message = firstLine(r.err);
  if (r.code === 0) throw new Error(`connection as ${call.user} was accepted but must be refused`);
  if (!expected.test(r.err))
    throw new Error(
      `connection as ${call.user} was refused for the wrong reason (wanted ${expected}): ${message}`,
    );
  return message;
}

/**
 * As the master user (password from Secrets Manager), create the IAM user the RDS way, with exactly the
 * SQL the README shows (contract/database-users.ts, read-write).
 */
export async function setupIamUserMysql(
  db: DbContext,
  master: { user: string; password: string },
): Promise<string> {
  const user = safe(db.iamUser, "IAM user");
  const rows = await mysqlOk(db, {
    user: master.user,
    password: master.password,
    sql: `${mysqlUserSql({ user, database: db.dbname, access: "read-write" })}
      SELECT plugin, authentication_string, CURRENT_USER() FROM mysql.user WHERE user = '${user}'`,
  });
  const [plugin, as, by] = rows.at(-1) ?? [];
  if (plugin !== "AWSAuthenticationPlugin" || as !== "RDS")
    throw new Error(
      `${user} is identified with '${plugin}' AS '${as}', expected AWSAuthenticationPlugin AS 'RDS'`,
    );
  return `${user} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS', created by ${by}`;
}

/** 16 MiB there and back, compared by sha256 on the server and locally. */
export async function bulkRoundTripMysql(db: DbContext, bytes = 16 * 1024 * 1024): Promise<string> {
  const blob = randomBytes(bytes);
  const sent = createHash("sha256").update(blob).digest("hex");
  const started = performance.now();
  const up = await mysqlOk(db, {
    user: db.iamUser,
    password: await freshToken(db),
    stdin: true,
    sql: `DROP TABLE IF EXISTS blobs;
      CREATE TABLE blobs (id INT PRIMARY KEY, data LONGBLOB NOT NULL);
      INSERT INTO blobs VALUES (1, 0x${blob.toString("hex")});
      SELECT SHA2(data, 256) FROM blobs WHERE id = 1;\n`,
  });
  const server = up.at(-1)?.[0] ?? "";
  if (server !== sent)
    throw new Error(`server-side sha256 ${server.slice(0, 12)}… ≠ sent ${sent.slice(0, 12)}…`);
  const down = await mysqlOk(db, {
    user: db.iamUser,
    password: await freshToken(db),
    sql: "SELECT HEX(data) FROM blobs WHERE id = 1; DROP TABLE blobs",
  });
  const seconds = (performance.now() - started) / 1000;
  const received = createHash("sha256")
    .update(Buffer.from(down[0]?.[0] ?? "", "hex"))
    .digest("hex");
  if (received !== sent)
    throw new Error(`received sha256 ${received.slice(0, 12)}… ≠ sent ${sent.slice(0, 12)}…`);
  const mib = bytes / (1024 * 1024);
  return `${mib} MiB up and down, sha256 ${sent.slice(0, 12)}… matches on both ends (${((2 * mib) / seconds).toFixed(1)} MiB/s)`;
}

/** N simultaneous verified TLS connections, each its own server thread, all over the one session. */
export async function concurrentConnectionsMysql(
  db: DbContext,
  n = 16,
): Promise<{ pids: number; detail: string }> {
  const started = performance.now();
  const rows = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      // The server holds each connection half a second, so all N are open at once (like db-steps.ts).
      const result = await mysqlOk(db, {
        user: db.iamUser,
        password: await freshToken(db),
        sql: `SELECT CONNECTION_ID(), ${i}, SLEEP(0.5); SHOW STATUS LIKE 'Ssl_version'`,
      });
      return { id: result[0]?.[0] ?? "", ssl: result[1]?.[1] ?? "" };
    }),
  );
  const ids = new Set(rows.map((r) => r.id));
  if (ids.size !== n) throw new Error(`expected ${n} distinct connections, got ${ids.size}`);
  if (!rows.every((r) => r.ssl.startsWith("TLS"))) throw new Error("a connection was not encrypted");
  return {
    pids: ids.size,
    detail: `${n} concurrent verified TLS connections in ${Math.round(performance.now() - started)} ms`,
  };
}

/** What must be refused is refused, for the right reason (refusals.ts, with the mariadb client). */
export function negativeChecksMysql(db: DbContext): Promise<string[]> {
  const call = (login: Login): Call => ({
    user: db.iamUser,
    password: login.token,
    sql: "SELECT 1",
    ...(login.caPath ? { caPath: login.caPath } : {}),
    ...(login.host ? { host: login.host } : {}),
  });
  return refusals(db, {
    accepted: async (login) => {
      await mysqlOk(db, call(login));
    },
    refused: (login, expected) => mysqlRefused(db, call(login), expected),
    badToken: /ERROR 1045 \(28000\): Access denied for user/,
    wrongCa: /TLS\/SSL error|SSL connection error|certificate verify failed/i,
    wrongName: /TLS\/SSL error|SSL connection error|does not match|certificate verify failed/i,
  });
}
