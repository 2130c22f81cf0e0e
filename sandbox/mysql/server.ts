import { randomBytes } from "node:crypto";
import { chownSync, copyFileSync, cpSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { SandboxCa } from "../ca.ts";
import { freePort } from "../ports.ts";
import { lookupAccount, type OsAccount } from "../postgres.ts";
import { type Supervised, supervise } from "../supervisor.ts";
import { AUTH_PLUGIN_FILE, buildAuthPlugin } from "./plugin-build.ts";

export interface MariadbOptions {
  /** Sandbox directory: the server's files in `<dir>/mysql` (its own), the log in `<dir>/mariadb.log`. */
  readonly dir: string;
  /** Directory shared by the sandboxes of this user (compiled plugin, initialised datadir template). */
  readonly cacheRoot: string;
  readonly ca: SandboxCa;
  /** Port of the IAM token verifier (sandbox/ldap-server.ts) the AWSAuthenticationPlugin asks. */
  readonly verifierPort: number;
  /** OS account that runs MariaDB when we are root. @default "mysql" */
  readonly runAsUser?: string;
  /** @default `DBTUNNEL_MARIADB_BIN`, else the binaries on PATH */
  readonly binDir?: string;
  /** @default 30 s */
  readonly readyTimeoutMs?: number;
}

export interface SandboxMariadb {
  readonly host: "127.0.0.1";
  /** TCP port: TLS only (require_secure_transport), what MySQL RDS endpoints resolve to. */
  readonly port: number;
  /** Unix socket of the administrative connection (root via unix_socket authentication, no password). */
  readonly socketPath: string;
  readonly process: Supervised;
  /** Runs statements as the server's root over the unix socket; rows as tab-separated lines. */
  sql(statements: string): Promise<string>;
  stop(): Promise<void>;
}

function bin(binDir: string | undefined, name: string): string {
  const dir = binDir ?? process.env.DBTUNNEL_MARIADB_BIN;
  return dir ? join(dir, name) : name;
}

function asAccount(account: OsAccount | undefined, cmd: string[]): string[] {
  if (!account) return cmd;
  return ["setpriv", `--reuid=${account.uid}`, `--regid=${account.gid}`, "--init-groups", "--", ...cmd];
}

/** Settings for a small throwaway server: durability is worth nothing here, memory and start-up time are. */
const SMALL_SERVER = [
  "--innodb-buffer-pool-size=16M",
  "--innodb-log-file-size=8M",
  "--innodb-flush-method=nosync",
  "--innodb-flush-log-at-trx-commit=0",
  "--skip-name-resolve",
];

async function run(cmd: string[], what: string, stdin?: string): Promise<string> {
  const proc = Bun.spawn({
    cmd,
    stdin: stdin === undefined ? "ignore" : "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  if (stdin !== undefined && proc.stdin) {
    proc.stdin.write(stdin);
    await proc.stdin.end();
  }
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`${what} failed: ${(err || out).trim().split("\n").slice(-2).join(" | ")}`);
  return out;
}

/**
 * An initialised datadir (system tables, root@localhost identified via unix_socket as `socketUser`), made
 * once per user and MariaDB version by mariadb-install-db (≈3 s) and copied for each sandbox (≈50 ms).
 */
async function datadirTemplate(
  cacheRoot: string,
  binDir: string | undefined,
  account: OsAccount | undefined,
  socketUser: string,
): Promise<string> {
  const version = (await run([bin(binDir, "mariadbd"), "--version"], "mariadbd --version")).trim();
  const tag = Bun.hash(`${version}|${socketUser}|${account?.uid ?? "self"}`).toString(16);
  const template = join(cacheRoot, `mariadb-datadir-${tag}`);
  if (existsSync(template)) return template;
  const building = `${template}.${process.pid}.${randomBytes(4).toString("hex")}`;
  mkdirSync(building, { mode: 0o700 });
  if (account) chownSync(building, account.uid, account.gid);
  try {
    await run(
      [
        bin(binDir, "mariadb-install-db"),
        "--no-defaults",
        `--datadir=${building}`,
        ...(account ? ["--user=mysql"] : []),
        "--auth-root-authentication-method=socket",
        `--auth-root-socket-user=${socketUser}`,
        "--skip-test-db",
        ...SMALL_SERVER,
      ],
      "mariadb-install-db",
    );
    renameSync(building, template);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    // Another sandbox won the race: use its template.
    if (existsSync(template)) return template;
    throw error;
  }
  return template;
}

/**
 * A throwaway MariaDB (Debian's 10.11) playing RDS MySQL: 127.0.0.1 on a free port, TLS only
 * (require_secure_transport), the sandbox server certificate, and the AWSAuthenticationPlugin that sends
 * IAM tokens to the sandbox verifier. Administration goes through a unix socket in the sandbox directory.
 */
export async function startMariadb(opts: MariadbOptions): Promise<SandboxMariadb> {
  const account = process.getuid?.() === 0 ? await lookupAccount(opts.runAsUser ?? "mysql") : undefined;
  const socketUser = userInfo().username;
  const [pluginDir, template] = await Promise.all([
    buildAuthPlugin(opts.cacheRoot),
    datadirTemplate(opts.cacheRoot, opts.binDir, account, socketUser),
  ]);
  // A directory of its own: the server creates its socket and pid file there as its OS user.
  const home = join(opts.dir, "mysql");
  mkdirSync(home, { mode: 0o700 });
  const dataDir = join(home, "data");
  cpSync(template, dataDir, { recursive: true, preserveTimestamps: true });
  // MariaDB reads the key as its own OS user; PostgreSQL's copy belongs to `postgres`.
  const keyPath = join(home, "server.key");
  copyFileSync(opts.ca.serverKeyPath, keyPath);
  if (account) chownTree(home, account);

  const socketPath = join(home, "mysql.sock");
  const logPath = join(opts.dir, "mariadb.log");
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = supervise({
      name: "mariadb",
      cmd: asAccount(account, [
        bin(opts.binDir, "mariadbd"),
        "--no-defaults",
        `--datadir=${dataDir}`,
        `--socket=${socketPath}`,
        `--pid-file=${join(home, "mariadb.pid")}`,
        "--bind-address=127.0.0.1",
        `--port=${port}`,
        // RDS MySQL with require_secure_transport=1 (what the stack's parameter group sets).
        "--require-secure-transport=ON",
        `--ssl-cert=${opts.ca.serverCertPath}`,
        `--ssl-key=${keyPath}`,
        `--ssl-ca=${opts.ca.caCertPath}`,
        "--tls-version=TLSv1.2,TLSv1.3",
        `--plugin-dir=${pluginDir}`,
        `--plugin-load-add=${AUTH_PLUGIN_FILE}`,
        "--max-allowed-packet=64M",
        "--max-connections=200",
        ...SMALL_SERVER,
      ]),
      env: { ...process.env, DBTUNNEL_IAM_VERIFIER_PORT: String(opts.verifierPort) },
      logPath,
      stopSignal: "TERM",
      graceSeconds: 10,
    });
    const sql = (statements: string) =>
      run(
        [
          bin(opts.binDir, "mariadb"),
          "--no-defaults",
          `--socket=${socketPath}`,
          "-u",
          "root",
          "--batch",
          "--raw",
        ],
        "mariadb (sandbox admin)",
        statements,
      );
    const handle: SandboxMariadb = {
      host: "127.0.0.1",
      port,
      socketPath,
      process: proc,
      sql,
      stop: () => proc.stop(),
    };
    const logSoFar = () =>
      Bun.file(logPath)
        .text()
        .catch(() => "");
    try {
      while (proc.isRunning()) {
        if ((await logSoFar()).includes("ready for connections")) return handle;
        if (Date.now() > deadline) {
          throw new Error(
            `MariaDB did not become ready within ${opts.readyTimeoutMs ?? 30_000} ms (log: ${logPath})`,
          );
        }
        await Bun.sleep(20);
      }
    } catch (error) {
      await proc.stop();
      throw error;
    }
    await proc.stop();
    const tail = (await logSoFar()).trim().split("\n").slice(-3).join(" | ");
    if (attempt < 3 && /already in use|can't start server: bind/i.test(tail)) continue;
    throw new Error(`MariaDB exited during start-up: ${tail || `see ${logPath}`}`);
  }
}

function chownTree(path: string, account: OsAccount): void {
  // cpSync keeps the template's owner only when it runs as root; make sure, and cheaply (few files).
  const proc = Bun.spawnSync({ cmd: ["chown", "-R", `${account.uid}:${account.gid}`, path] });
  if (proc.exitCode !== 0) throw new Error(`chown of ${path} failed: ${proc.stderr.toString().trim()}`);
}
