import { randomBytes } from "node:crypto";
import { chownSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import type { SandboxCa } from "./ca.ts";
import { freePort } from "./ports.ts";
import { type Supervised, supervise } from "./supervisor.ts";

/** Where Debian puts the PostgreSQL 15 server binaries (design.md, machine facts). */
export const DEFAULT_PG_BIN = "/usr/lib/postgresql/15/bin";

export interface PostgresOptions {
  /** Sandbox directory; the cluster goes to `<dir>/pgdata`, the log to `<dir>/postgres.log`. */
  readonly dir: string;
  /** May still be in the making: initdb runs meanwhile. */
  readonly ca: SandboxCa | Promise<SandboxCa>;
  /** Port of the LDAP IAM-token verifier that the `+rds_iam` pg_hba line points at. */
  readonly ldapPort: number | Promise<number>;
  /** Region, only to pick a certificate name for the superuser connection. */
  readonly region: string;
  /** @default `DBTUNNEL_PG_BIN`, else /usr/lib/postgresql/15/bin */
  readonly binDir?: string;
  /** OS account that runs the cluster when we are root (initdb refuses root). @default "postgres" */
  readonly runAsUser?: string;
  /** @default 20 s */
  readonly readyTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** How tests and the RDS mirror reach the cluster as its superuser (TLS, scram). */
export interface SuperuserConnection {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly user: "postgres";
  readonly password: string;
  readonly database: "postgres";
  /** A name the server certificate is valid for: use it as libpq `host` (with hostaddr=127.0.0.1). */
  readonly tlsServerName: string;
  readonly caCertPath: string;
}

export interface SandboxPostgres {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly superuser: SuperuserConnection;
  readonly process: Supervised;
  /**
   * A `postgres` (porsager) client as superuser over verify-full TLS; the caller ends it.
   * @param servername the name to verify the certificate against @default superuser.tlsServerName
   */
  connect(database?: string, servername?: string): postgres.Sql;
  stop(): Promise<void>;
}

export interface OsAccount {
  readonly uid: number;
  readonly gid: number;
}

/** uid/gid of a local account from /etc/passwd (no extra package for getpwnam). */
export async function lookupAccount(name: string): Promise<OsAccount> {
  const passwd = await Bun.file("/etc/passwd").text();
  for (const line of passwd.split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(
    `the sandbox runs PostgreSQL as the OS user ${name} when started as root, but it does not exist: install PostgreSQL 15 (apt-get install postgresql-15)`,
  );
}

/** The account the cluster runs as: ourselves, or `postgres` when we are root. */
export async function clusterAccount(runAsUser = "postgres"): Promise<OsAccount | undefined> {
  return process.getuid?.() === 0 ? lookupAccount(runAsUser) : undefined;
}

function asAccount(account: OsAccount | undefined, cmd: string[]): string[] {
  if (!account) return cmd;
  // setpriv execs in place (no extra process in between that could swallow signals, unlike runuser).
  return ["setpriv", `--reuid=${account.uid}`, `--regid=${account.gid}`, "--init-groups", "--", ...cmd];
}

/**
 * pg_hba like RDS with rds.force_ssl=1: TLS only (no `host` lines, no unix sockets), members of rds_iam
 * authenticate with an IAM token checked by the LDAP verifier, everyone else with a scram password.
 * Order matters: the first matching line wins.
 */
export function pgHba(ldapPort: number): string {
  const ldap = (suffix: string) =>
    `ldap ldapserver=127.0.0.1 ldapport=${ldapPort} ldapprefix="cn=" ldapsuffix=",${suffix},dc=rds-iam"`;
  return [
    "# Written by dbtunnel sandbox. TLS only, like RDS with rds.force_ssl=1.",
    "# Each sandbox database is dialled from its own loopback address (rds-mirror.ts), so an IAM login",
    "# names the database it reached and a token signed for another database's endpoint is refused.",
    ...Array.from(
      { length: DATABASE_SLOTS },
      (_, i) => `hostssl all +rds_iam ${slotAddress(i + 1)}/32 ${ldap(`dc=db-${i + 1}`)}`,
    ),
    `hostssl all +rds_iam 127.0.0.1/32 ${ldap("dc=any")}`,
    "hostssl all all 127.0.0.0/8 scram-sha-256",
    "",
  ].join("\n");
}

/** How many sandbox databases get their own endpoint identity (later ones share the generic one). */
export const DATABASE_SLOTS = 64;

/** Loopback source address of database slot n (1-based): 127.0.1.n. Linux routes all of 127/8 locally. */
export function slotAddress(n: number): string {
  return `127.0.1.${n}`;
}

async function run(cmd: string[], what: string): Promise<void> {
  const proc = Bun.spawn({ cmd, stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`${what} failed: ${(err || out).trim().split("\n").slice(-2).join(" | ")}`);
}

async function readyStatus(dataDir: string): Promise<boolean> {
  try {
    // postmaster.pid line 8 is the server status; "ready" once it accepts connections (what pg_ctl -w reads).
    const lines = (await Bun.file(join(dataDir, "postmaster.pid")).text()).split("\n");
    return (lines[7] ?? "").trim() === "ready";
  } catch {
    return false;
  }
}

/** A throwaway PostgreSQL 15 cluster: TLS only, 127.0.0.1 only, free port, IAM auth via LDAP. */
export async function startPostgres(opts: PostgresOptions): Promise<SandboxPostgres> {
  const bin = opts.binDir ?? process.env.DBTUNNEL_PG_BIN ?? DEFAULT_PG_BIN;
  const account = await clusterAccount(opts.runAsUser);
  const dataDir = join(opts.dir, "pgdata");
  const logPath = join(opts.dir, "postgres.log");
  const password = randomBytes(24).toString("base64url");
  const pwFile = join(opts.dir, "pgpass.tmp");

  mkdirSync(dataDir, { mode: 0o700 });
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (account) {
    chownSync(dataDir, account.uid, account.gid);
    chownSync(pwFile, account.uid, account.gid);
  }
  try {
    await run(
      asAccount(account, [
        join(bin, "initdb"),
        "-D",
        dataDir,
        "-U",
        "postgres",
        `--pwfile=${pwFile}`,
        "--auth=scram-sha-256",
        "-E",
        "UTF8",
        "--no-locale",
        // A throwaway cluster: durability is worth nothing, start-up time is.
        "--no-sync",
      ]),
      "initdb",
    );
  } finally {
    rmSync(pwFile, { force: true });
  }
  const [ca, ldapPort] = await Promise.all([opts.ca, opts.ldapPort]);
  writeFileSync(join(dataDir, "pg_hba.conf"), pgHba(ldapPort), { mode: 0o600 });
  if (account) chownSync(join(dataDir, "pg_hba.conf"), account.uid, account.gid);

  const tlsServerName = `sandbox-superuser.aaaaaaaaaa.${opts.region}.rds.amazonaws.com`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const settings: Record<string, string> = {
      listen_addresses: "127.0.0.1",
      port: String(port),
      unix_socket_directories: "",
      ssl: "on",
      ssl_cert_file: ca.serverCertPath,
      ssl_key_file: ca.serverKeyPath,
      ssl_min_protocol_version: "TLSv1.2",
      password_encryption: "scram-sha-256",
      fsync: "off",
      synchronous_commit: "off",
      full_page_writes: "off",
      shared_buffers: "32MB",
      max_connections: "100",
      log_line_prefix: "%m [%p] %q%u@%d ",
    };
    const args = Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
    const proc = supervise({
      name: "postgres",
      cmd: asAccount(account, [join(bin, "postgres"), "-D", dataDir, ...args]),
      logPath,
      // SIGINT = fast shutdown: disconnects clients instead of waiting for them (SIGTERM would wait).
      stopSignal: "INT",
      graceSeconds: 5,
    });
    const superuser: SuperuserConnection = {
      host: "127.0.0.1",
      port,
      user: "postgres",
      password,
      database: "postgres",
      tlsServerName,
      caCertPath: ca.caCertPath,
    };
    const caPem = await Bun.file(ca.caCertPath).text();
    const handle: SandboxPostgres = {
      host: "127.0.0.1",
      port,
      superuser,
      process: proc,
      connect: (database = "postgres", servername = tlsServerName) =>
        postgres({
          host: "127.0.0.1",
          port,
          user: "postgres",
          password,
          database,
          // verify-full against a name in the certificate while connecting to 127.0.0.1, like the CLI does.
          ssl: { ca: caPem, servername, rejectUnauthorized: true },
          max: 2,
          idle_timeout: 5,
          onnotice: () => {},
        }),
      stop: () => proc.stop(),
    };
    try {
      while (proc.isRunning()) {
        opts.signal?.throwIfAborted();
        if (await readyStatus(dataDir)) return handle;
        if (Date.now() > deadline) {
          throw new Error(
            `PostgreSQL did not become ready within ${opts.readyTimeoutMs ?? 20_000} ms (log: ${logPath})`,
          );
        }
        await Bun.sleep(20);
      }
    } catch (error) {
      await proc.stop();
      throw error;
    }
    await proc.stop();
    const log = (
      await Bun.file(logPath)
        .text()
        .catch(() => "")
    )
      .trim()
      .split("\n")
      .slice(-3)
      .join(" | ");
    if (attempt < 3 && /could not bind|address already in use/i.test(log)) continue;
    throw new Error(`PostgreSQL exited during start-up: ${log || `see ${logPath}`}`);
  }
}
