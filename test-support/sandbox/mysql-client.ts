/**
 * Runs the real `mariadb` client against the sandbox with hostname verification: MySQL clients have no
 * libpq-style hostaddr, so the RDS endpoint name must resolve to 127.0.0.1. Each call runs the client in a
 * private mount namespace (`unshare -m`, user namespace too when not root) with its own hosts file
 * bind-mounted over /etc/hosts, so the machine's hosts file is never touched.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MysqlCall {
  /** The name the client connects to and verifies (an RDS endpoint); resolved to 127.0.0.1. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Sent with the cleartext plugin (IAM token) or native password; passed through MYSQL_PWD, never argv. */
  readonly password: string;
  readonly caPath: string;
  readonly database?: string;
  readonly sql: string;
  /** Extra client arguments (e.g. --skip-ssl to prove the server refuses plain text). */
  readonly extraArgs?: readonly string[];
  /** @default true */
  readonly verifyServerCert?: boolean;
  /** Data for stdin instead of `-e sql`. */
  readonly stdin?: string;
}

export interface MysqlResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function runMysql(call: MysqlCall): Promise<MysqlResult> {
  const dir = mkdtempSync(join(tmpdir(), "dbtunnel-mysql-hosts-"));
  try {
    const hosts = join(dir, "hosts");
    writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.1 ${call.host}\n`);
    const unshare = process.getuid?.() === 0 ? ["unshare", "-m"] : ["unshare", "-r", "-m"];
    const client = [
      "mariadb",
      "--no-defaults",
      `--host=${call.host}`,
      `--port=${call.port}`,
      `--user=${call.user}`,
      `--ssl-ca=${call.caPath}`,
      ...(call.verifyServerCert === false ? [] : ["--ssl-verify-server-cert"]),
      "--connect-timeout=10",
      "--batch",
      "--skip-column-names",
      ...(call.extraArgs ?? []),
      ...(call.database ? [call.database] : []),
      ...(call.stdin === undefined ? ["-e", call.sql] : []),
    ];
    const proc = Bun.spawn({
      cmd: [...unshare, "sh", "-c", 'mount --bind "$0" /etc/hosts || exit 99; exec "$@"', hosts, ...client],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", MYSQL_PWD: call.password },
      stdin: call.stdin === undefined ? "ignore" : new Blob([call.stdin]),
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, out, err] = await Promise.all([
      proc.exited,
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    return { code, out: out.trim(), err: err.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
