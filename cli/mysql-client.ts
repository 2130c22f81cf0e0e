/**
 * The MySQL side of `connect`: which client is installed (Oracle's `mysql` or MariaDB's `mysql`/`mariadb`),
 * its options for TLS with hostname verification — MySQL `--ssl-mode=VERIFY_IDENTITY`, MariaDB
 * `--ssl-verify-server-cert` (both: the certificate must be signed by the CA bundle AND name the endpoint)
 * — and the cleartext plugin that carries the IAM token. The token is only ever sent inside that verified
 * TLS: both clients refuse to authenticate when TLS with verification cannot be established.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClientParams } from "./client-env.ts";

export type MysqlFlavor = "mysql" | "mariadb";

export interface MysqlClient {
  /** Program name as found on PATH. */
  readonly program: string;
  readonly flavor: MysqlFlavor;
}

/** `mysql` first (both flavours install it), then MariaDB's `mariadb`; undefined when neither is there. */
export async function findMysqlClient(path = process.env.PATH ?? ""): Promise<MysqlClient | undefined> {
  for (const program of ["mysql", "mariadb"]) {
    const resolved = Bun.which(program, { PATH: path });
    if (!resolved) continue;
    const proc = Bun.spawn({
      cmd: [resolved, "--version"],
      stdout: "pipe",
      stderr: "ignore",
      stdin: "ignore",
    });
    const [version] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    return { program, flavor: /mariadb/i.test(version) ? "mariadb" : "mysql" };
  }
  return undefined;
}

/** TLS + authentication options for `flavor` (option-file spelling, without the leading `--`). */
export function mysqlSecurityOptions(flavor: MysqlFlavor | undefined, caBundle: string): string[] {
  const mariadb = ["ssl-verify-server-cert"];
  const mysql = ["ssl-mode=VERIFY_IDENTITY", "enable-cleartext-plugin"];
  // Unknown client (an --exec tool): options for both, marked loose- so each ignores the other's.
  const specific =
    flavor === "mariadb"
      ? mariadb
      : flavor === "mysql"
        ? mysql
        : [...mariadb, ...mysql].map((option) => `loose-${option}`);
  return [`ssl-ca=${caBundle}`, ...specific];
}

/** Arguments for the interactive client: the endpoint name (resolved to the tunnel), TLS verified. */
export function mysqlArgs(client: MysqlClient, params: ClientParams): string[] {
  const args = [
    `--host=${params.endpoint}`,
    `--port=${params.localPort}`,
    `--user=${params.user}`,
    ...mysqlSecurityOptions(client.flavor, params.caBundle).map((option) => `--${option}`),
  ];
  if (params.database) args.push(params.database);
  return args;
}

/** An option file for `--exec` tools: [client] for every MySQL program, the database for `mysql` itself. */
export function mysqlOptionFile(flavor: MysqlFlavor | undefined, params: ClientParams): string {
  const client = [
    `host=${params.endpoint}`,
    `port=${params.localPort}`,
    `user=${params.user}`,
    ...mysqlSecurityOptions(flavor, params.caBundle),
  ];
  const lines = [
    "# Written by dbtunnel connect for this run; the password is MYSQL_PWD.",
    "[client]",
    ...client,
  ];
  if (params.database) lines.push("[mysql]", `database=${params.database}`);
  return `${lines.join("\n")}\n`;
}

export interface MysqlExecEnv {
  /** MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_PWD, MYSQL_HOME (MariaDB tools read $MYSQL_HOME/my.cnf), DBTUNNEL_MYSQL_CNF. */
  readonly env: Record<string, string>;
  /** Removes the option file. Idempotent, synchronous. */
  remove(): void;
}

/**
 * The variables an `--exec` command gets for a MySQL target. MySQL clients take TLS settings only from
 * arguments or option files, so a private option file carries them: MariaDB tools read it by themselves
 * through MYSQL_HOME; Oracle's take `--defaults-extra-file="$DBTUNNEL_MYSQL_CNF"`.
 */
export function mysqlExecEnv(
  flavor: MysqlFlavor | undefined,
  params: ClientParams,
  token: string,
): MysqlExecEnv {
  const dir = mkdtempSync(join(tmpdir(), "dbtunnel-mysql-"));
  const cnf = join(dir, "my.cnf");
  writeFileSync(cnf, mysqlOptionFile(flavor, params), { mode: 0o600 });
  let removed = false;
  return {
    env: {
      MYSQL_HOST: params.endpoint,
      MYSQL_TCP_PORT: String(params.localPort),
      MYSQL_PWD: token,
      MYSQL_HOME: dir,
      DBTUNNEL_MYSQL_CNF: cnf,
    },
    remove() {
      if (removed) return;
      removed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
