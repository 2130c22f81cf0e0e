/**
 * Steps 4-6 of the flow: everything that talks to the database through the tunnel. Each function checks
 * one property and returns a short evidence line; each failure throws one line naming what broke.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import postgres from "postgres";
import type { AwsCredentials } from "../cli/demo/aws-clients.ts";
import { postgresUserSql } from "../contract/database-users.ts";
import { type HostsOverride, literal, type PsqlConnection, psqlOk, psqlRefused } from "./psql.ts";
import { freshToken, type Login, refusals } from "./refusals.ts";

export interface DbContext {
  /** The RDS endpoint and port the certificate and the tokens are for. */
  readonly endpoint: string;
  readonly port: number;
  /** The tunnel's local port on 127.0.0.1. */
  readonly localPort: number;
  readonly dbname: string;
  readonly region: string;
  readonly caBundlePath: string;
  readonly iamUser: string;
  readonly credentials: () => Promise<AwsCredentials>;
}

/** Schema the IAM user creates its test tables in: the one the README's read-write grants cover. */
export const E2E_SCHEMA = "public";

function viaTunnel(db: DbContext, user: string, password: string): PsqlConnection {
  return {
    host: db.endpoint,
    hostaddr: "127.0.0.1",
    port: db.localPort,
    dbname: db.dbname,
    user,
    password,
    sslrootcert: db.caBundlePath,
  };
}

/** Step 4: as the master user, the README's read-write user SQL (contract/database-users.ts), verbatim. */
export async function setupIamUser(
  db: DbContext,
  master: { user: string; password: string },
): Promise<string> {
  const user = literal(db.iamUser);
  const rows = await psqlOk(
    viaTunnel(db, master.user, master.password),
    `${postgresUserSql({ user: db.iamUser, database: db.dbname, access: "read-write", schema: E2E_SCHEMA })}
     SELECT pg_has_role(${user}, 'rds_iam', 'MEMBER'), has_schema_privilege(${user}, ${literal(E2E_SCHEMA)}, 'CREATE'), current_user;`,
  );
  const [isMember, mayCreate, asUser] = rows.at(-1) ?? [];
  if (isMember !== "t") throw new Error(`${db.iamUser} is not a member of rds_iam after GRANT`);
  if (mayCreate !== "t") throw new Error(`${db.iamUser} may not create tables in ${E2E_SCHEMA}`);
  return `${db.iamUser} created read-write by ${asUser} (contract/database-users.ts)`;
}

interface TlsDetails {
  readonly user: string;
  readonly ssl: boolean;
  readonly tlsVersion: string;
  readonly cipher: string;
  readonly bits: string;
  readonly serverVersion: string;
}

const TLS_QUERY = `SELECT current_user, s.ssl, s.version, s.cipher, s.bits, current_setting('server_version')
  FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid();`;

function parseTls(row: readonly string[] | undefined): TlsDetails {
  const [user = "", ssl = "", tlsVersion = "", cipher = "", bits = "", serverVersion = ""] = row ?? [];
  return { user, ssl: ssl === "t", tlsVersion, cipher, bits, serverVersion };
}

function assertTls(tls: TlsDetails, expectedUser: string): void {
  if (tls.user !== expectedUser) throw new Error(`logged in as '${tls.user}', expected '${expectedUser}'`);
  if (!tls.ssl) throw new Error("pg_stat_ssl says the connection is not encrypted");
}

/** Step 5b: the same login with no hostaddr: the endpoint resolves to 127.0.0.1 through a hosts override. */
export async function iamWithHostsFile(db: DbContext, override: HostsOverride): Promise<string> {
  const connection = { ...viaTunnel(db, db.iamUser, await freshToken(db)), hostaddr: undefined };
  const rows = await psqlOk(
    connection,
    `${TLS_QUERY}
     SELECT count(*) FROM ${E2E_SCHEMA}.notes;`,
    override,
  );
  assertTls(parseTls(rows[0]), db.iamUser);
  const count = rows.at(-1)?.[0];
  if (count !== "2") throw new Error(`expected the 2 rows written over hostaddr, saw ${count}`);
  return `${override.kind === "namespace" ? "private mount namespace" : "/etc/hosts"} maps ${db.endpoint} → 127.0.0.1; verify-full passed`;
}

/** A porsager client over the tunnel with verify-full TLS (servername = endpoint) and a fresh token per connection. */
export function tunnelClient(db: DbContext, max: number): postgres.Sql {
  return postgres({
    host: "127.0.0.1",
    port: db.localPort,
    database: db.dbname,
    username: db.iamUser,
    password: () => freshToken(db),
    ssl: { ca: readFileSync(db.caBundlePath, "utf8"), servername: db.endpoint, rejectUnauthorized: true },
    max,
    connect_timeout: 30,
    idle_timeout: 0,
    onnotice: () => {},
  });
}

/** Step 5c: 16 MiB there and back, compared by sha256 on both ends. */
export async function bulkRoundTrip(db: DbContext, bytes = 16 * 1024 * 1024): Promise<string> {
  const sql = tunnelClient(db, 1);
  try {
    const blob = randomBytes(bytes);
    const sent = createHash("sha256").update(blob).digest("hex");
    const started = performance.now();
    await sql`DROP TABLE IF EXISTS public.blobs`;
    await sql`CREATE TABLE public.blobs (id int PRIMARY KEY, data bytea NOT NULL)`;
    await sql`INSERT INTO public.blobs VALUES (1, ${blob})`;
    const [row] = await sql<{ data: Buffer; server: string }[]>`
      SELECT data, encode(sha256(data), 'hex') AS server FROM public.blobs WHERE id = 1`;
    const seconds = (performance.now() - started) / 1000;
    await sql`DROP TABLE public.blobs`;
    if (!row) throw new Error("the 16 MiB row did not come back");
    if (row.server !== sent)
      throw new Error(`server-side sha256 ${row.server.slice(0, 12)}… ≠ sent ${sent.slice(0, 12)}…`);
    const received = createHash("sha256").update(row.data).digest("hex");
    if (received !== sent)
      throw new Error(`received sha256 ${received.slice(0, 12)}… ≠ sent ${sent.slice(0, 12)}…`);
    const mib = bytes / (1024 * 1024);
    return `${mib} MiB up and down, sha256 ${sent.slice(0, 12)}… matches on both ends (${((2 * mib) / seconds).toFixed(1)} MiB/s)`;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** Step 5d: N simultaneous TLS connections, each its own backend, all over the one session. */
export async function concurrentConnections(
  db: DbContext,
  n = 16,
): Promise<{ pids: number; detail: string }> {
  const clients = Array.from({ length: n }, () => tunnelClient(db, 1));
  try {
    const started = performance.now();
    const rows = await Promise.all(
      clients.map(async (sql, i) => {
        const [row] = await sql<{ pid: number; ssl: boolean; i: number }[]>`
          SELECT pg_backend_pid() AS pid, s.ssl, ${i}::int AS i, pg_sleep(0.5)::text
          FROM pg_stat_ssl s WHERE s.pid = pg_backend_pid()`;
        if (!row) throw new Error(`connection ${i} returned no row`);
        return row;
      }),
    );
    const pids = new Set(rows.map((r) => r.pid));
    if (pids.size !== n) throw new Error(`expected ${n} distinct backends, got ${pids.size}`);
    if (!rows.every((r) => r.ssl)) throw new Error("a connection was not encrypted");
    return {
      pids: pids.size,
      detail: `${n} concurrent verify-full connections in ${Math.round(performance.now() - started)} ms`,
    };
  } finally {
    await Promise.all(clients.map((sql) => sql.end({ timeout: 5 })));
  }
}

/** Step 6: what must be refused is refused, for the right reason (refusals.ts, with psql). */
export function negativeChecks(db: DbContext): Promise<string[]> {
  const connection = (login: Login): PsqlConnection => ({
    ...viaTunnel(db, db.iamUser, login.token),
    ...(login.caPath ? { sslrootcert: login.caPath } : {}),
    ...(login.host ? { host: login.host } : {}),
  });
  return refusals(db, {
    accepted: async (login) => {
      await psqlOk(connection(login), "SELECT 1;");
    },
    refused: (login, expected) => psqlRefused(connection(login), expected),
    badToken: /authentication failed/i,
    wrongCa: /certificate verify failed/i,
    wrongName: /does not match host name/i,
  });
}
