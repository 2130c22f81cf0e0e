/**
 * The demo's database steps, through the session the pipeline opened: the master user creates the IAM
 * login role, then that role logs in with an IAM token under verify-full and shows what the server saw.
 * psql gets its connection from the pipeline's libpqEnv, the same variables `dbtunnel connect` sets.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { postgresUserSql } from "../../contract/database-users.ts";
import { type ClientParams, libpqEnv, type StackTarget } from "../pipeline/index.ts";
import { redact, registerSecret } from "../redact.ts";

export interface MasterLogin {
  readonly user: string;
  readonly password: string;
}

/** The master login: the password from the managed secret (output db_master_secret_arn). */
export async function masterLogin(
  secrets: SecretsManagerClient,
  target: StackTarget,
  outputs: Readonly<Record<string, unknown>>,
): Promise<MasterLogin> {
  const arn = outputs.db_master_secret_arn;
  if (typeof arn !== "string" || arn === "") throw new Error("output db_master_secret_arn is empty");
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
  const parsed = JSON.parse(secret.SecretString ?? "{}") as { username?: string; password?: string };
  if (!parsed.password) throw new Error(`secret ${arn} holds no password`);
  registerSecret(parsed.password);
  // The login is the instance's MasterUsername (output db_master_username); the secret only supplies the
  // password (moto's generated secret names a different user, RDS's names the same one).
  const user = target.db.masterUsername || parsed.username;
  if (!user) throw new Error("neither output db_master_username nor the master secret names the master user");
  return { user, password: parsed.password };
}

/** SQL identifier quoting. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** As the master user: the README's read-write IAM user (contract/database-users.ts), in `schema`. */
export async function createIamUser(
  master: ClientParams,
  password: string,
  iamUser: string,
  schema: string,
): Promise<string> {
  const database = master.database ?? "postgres";
  const rows = await psql(
    master,
    password,
    `${postgresUserSql({ user: iamUser, database, access: "read-write", schema })}
     SELECT pg_has_role(${literal(iamUser)}, 'rds_iam', 'MEMBER'), current_user;`,
  );
  const [isMember, asUser] = rows.at(-1) ?? [];
  if (isMember !== "t") throw new Error(`${iamUser} is not a member of rds_iam after GRANT`);
  return `${iamUser} created read-write by ${asUser}`;
}

export interface TlsDetails {
  readonly user: string;
  readonly ssl: boolean;
  readonly tlsVersion: string;
  readonly cipher: string;
  readonly bits: string;
  readonly serverVersion: string;
}

/** What the server says about this very connection. */
export const TLS_QUERY = `SELECT current_user, s.ssl, s.version, s.cipher, s.bits, current_setting('server_version')
  FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid();`;

export function parseTls(row: readonly string[] | undefined): TlsDetails {
  const [user = "", ssl = "", tlsVersion = "", cipher = "", bits = "", serverVersion = ""] = row ?? [];
  return { user, ssl: ssl === "t", tlsVersion, cipher, bits, serverVersion };
}

/** The IAM user logs in with the token under verify-full, writes and reads a table, reports the TLS. */
export async function iamLogin(params: ClientParams, token: string, schema: string): Promise<TlsDetails> {
  const s = ident(schema);
  const rows = await psql(
    params,
    token,
    `${TLS_QUERY}
     DROP TABLE IF EXISTS ${s}.notes;
     CREATE TABLE ${s}.notes (id int PRIMARY KEY, body text NOT NULL);
     INSERT INTO ${s}.notes VALUES (1, 'one'), (2, 'two'), (3, 'three');
     UPDATE ${s}.notes SET body = 'TWO' WHERE id = 2;
     DELETE FROM ${s}.notes WHERE id = 3;
     SELECT string_agg(id || '=' || body, ',' ORDER BY id) FROM ${s}.notes;`,
  );
  const tls = parseTls(rows[0]);
  if (tls.user !== params.user) throw new Error(`logged in as '${tls.user}', expected '${params.user}'`);
  if (!tls.ssl) throw new Error("pg_stat_ssl says the connection is not encrypted");
  const data = rows.at(-1)?.[0];
  if (data !== "1=one,2=TWO")
    throw new Error(`DDL/DML round trip returned '${data}', expected '1=one,2=TWO'`);
  return tls;
}

/** Runs SQL with psql (script on stdin, stop at the first error); rows as tab-separated fields. */
function psql(params: ClientParams, password: string, sql: string): Promise<string[][]> {
  return runSqlClient(
    ["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-f", "-"],
    { ...libpqEnv(params, password), PGCONNECT_TIMEOUT: "20" },
    sql,
    `psql as ${params.user}`,
  );
}

/**
 * Runs a database client with `sql` on stdin and only PATH plus `env` in its environment (the password
 * stays off the command line); its output as rows of tab-separated fields, or one redacted line naming
 * what failed (`label`) and the client's first error line.
 */
export async function runSqlClient(
  command: readonly string[],
  env: Readonly<Record<string, string>>,
  sql: string,
  label: string,
): Promise<string[][]> {
  const child = Bun.spawn([...command], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdin: new TextEncoder().encode(sql),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) {
    const lines = err.trim().split("\n");
    const line = lines.find((l) => /error|fatal/i.test(l)) ?? lines[0];
    throw new Error(`${label} failed: ${redact(line || `exit ${code}`)}`);
  }
  return out
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\t"));
}
