/**
 * Real `psql` connections for the flow, always with `sslmode=verify-full`. Two ways to make the
 * certificate's name (the RDS endpoint) match a connection that really goes to 127.0.0.1:
 * - `hostaddr`: libpq verifies against `host` and dials `hostaddr` (no system change);
 * - a hosts-file override: the endpoint resolves to 127.0.0.1. In the sandbox this happens in a private
 *   mount namespace (`unshare -m`, a temp file bind-mounted over /etc/hosts) so the machine's hosts file is
 *   never touched; on a disposable CI runner (aws target) the real /etc/hosts gets a dbtunnel block that is
 *   removed afterwards.
 * The password (an IAM token) travels in PGPASSWORD, never in argv where `ps` would show it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withBlock, withoutBlock } from "../cli/hosts-block.ts";
import { redact } from "../cli/redact.ts";

export interface PsqlConnection {
  /** The RDS endpoint (what the certificate names). */
  readonly host: string;
  /** Set to dial somewhere else than `host` resolves to (the tunnel). */
  readonly hostaddr?: string;
  readonly port: number;
  readonly dbname: string;
  readonly user: string;
  readonly password: string;
  readonly sslrootcert: string;
}

export type HostsOverride =
  | { readonly kind: "none" }
  /** Private mount namespace with a temp hosts file (needs root, or unprivileged user namespaces). */
  | { readonly kind: "namespace"; readonly address: string }
  /** Edit the real /etc/hosts (disposable CI runners only). */
  | { readonly kind: "system"; readonly address: string; readonly hostsPath?: string };

export interface PsqlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function conninfo(c: PsqlConnection): string {
  const parts: [string, string | number | undefined][] = [
    ["host", c.host],
    ["hostaddr", c.hostaddr],
    ["port", c.port],
    ["dbname", c.dbname],
    ["user", c.user],
    ["sslmode", "verify-full"],
    ["sslrootcert", c.sslrootcert],
    ["connect_timeout", 15],
    ["application_name", "dbtunnel-e2e"],
  ];
  return parts
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}='${String(v).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`)
    .join(" ");
}

/** Environment for psql: no inherited PG* settings (a stray PGSSLMODE would weaken the check). */
function psqlEnv(password: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("PG")) env[k] = v;
  env.PGPASSWORD = password;
  return env;
}

export async function runPsql(c: PsqlConnection, sql: string, override: HostsOverride = { kind: "none" }) {
  const psql = [
    "psql",
    "-X",
    "-A",
    "-t",
    "-q",
    "-v",
    "ON_ERROR_STOP=1",
    "-F",
    "|",
    "-d",
    conninfo(c),
    "-f",
    "-",
  ];
  if (override.kind === "none") return exec(psql, sql, c.password);
  if (override.kind === "namespace") {
    const dir = mkdtempSync(join(tmpdir(), "dbtunnel-hosts-"));
    const hostsFile = join(dir, "hosts");
    try {
      writeFileSync(
        hostsFile,
        withBlock(readFileSync("/etc/hosts", "utf8"), block(c.host, override.address), () => true),
      );
      // As root a plain mount namespace is enough; otherwise map ourselves to root in a user namespace.
      const unshare = process.getuid?.() === 0 ? ["unshare", "-m"] : ["unshare", "-r", "-m"];
      const script = 'mount --bind "$0" /etc/hosts && exec "$@"';
      return await exec([...unshare, "sh", "-c", script, hostsFile, ...psql], sql, c.password);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const path = override.hostsPath ?? "/etc/hosts";
  const original = readFileSync(path, "utf8");
  writeFileSync(
    path,
    withBlock(original, block(c.host, override.address), () => true),
  );
  try {
    return await exec(psql, sql, c.password);
  } finally {
    writeFileSync(
      path,
      withoutBlock(readFileSync(path, "utf8"), process.pid, () => true),
    );
  }
}

function block(host: string, address: string) {
  return { pid: process.pid, hosts: [host], address };
}

async function exec(cmd: readonly string[], stdin: string, password: string): Promise<PsqlResult> {
  const proc = Bun.spawn({
    cmd: [...cmd],
    env: psqlEnv(password),
    stdin: new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr: redact(stderr, [password]) };
}

/** Runs SQL that must succeed; throws one line with psql's error otherwise. */
export async function psqlOk(c: PsqlConnection, sql: string, override?: HostsOverride): Promise<string[][]> {
  const r = await runPsql(c, sql, override);
  if (r.code !== 0) {
    throw new Error(`psql as ${c.user} failed (exit ${r.code}): ${firstLine(r.stderr) || "no error output"}`);
  }
  return r.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("|"));
}

/** Runs a connection that must be refused with an error matching `expected`; returns psql's message. */
export async function psqlRefused(
  c: PsqlConnection,
  expected: RegExp,
  override?: HostsOverride,
): Promise<string> {
  const r = await runPsql(c, "SELECT 1;", override);
  const message = firstLine(r.stderr);
  if (r.code === 0) throw new Error(`connection as ${c.user} was accepted but must be refused`);
  if (!expected.test(r.stderr)) {
    throw new Error(
      `connection as ${c.user} was refused for the wrong reason (wanted ${expected}): ${message}`,
    );
  }
  return message;
}

function firstLine(text: string): string {
  return (text.split("\n").find((l) => l.trim() !== "") ?? "").trim().replace(/^psql: (error: )?/, "");
}

/** SQL identifier quoting (user names come from the stack config). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** SQL string literal quoting. */
export function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}
