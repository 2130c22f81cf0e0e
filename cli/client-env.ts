/**
 * How database clients are pointed through the tunnel. TLS is always verify-full against the REAL endpoint
 * name: in the default mode libpq connects to `hostaddr` (127.0.0.1) but verifies the certificate against
 * `host` (the RDS endpoint); in hosts-file mode the endpoint itself resolves to 127.0.0.1.
 */
import { exportLine } from "../contract/shell.ts";

export { shellQuote } from "../contract/shell.ts";

export interface ClientParams {
  /** The real RDS endpoint hostname (what the certificate names). */
  readonly endpoint: string;
  readonly localPort: number;
  readonly user: string;
  readonly database?: string;
  readonly caBundle: string;
  /** false in hosts-file mode (the endpoint name resolves to 127.0.0.1 by itself). @default true */
  readonly hostaddr?: boolean;
  /** Local address of the tunnel. @default "127.0.0.1" */
  readonly localHost?: string;
}

/** The libpq variables (PGPASSWORD only when a token is given). */
export function libpqEnv(params: ClientParams, token?: string): Record<string, string> {
  const env: Record<string, string> = { PGHOST: params.endpoint };
  if (params.hostaddr !== false) env.PGHOSTADDR = params.localHost ?? "127.0.0.1";
  env.PGPORT = String(params.localPort);
  env.PGUSER = params.user;
  if (params.database) env.PGDATABASE = params.database;
  env.PGSSLMODE = "verify-full";
  env.PGSSLROOTCERT = params.caBundle;
  if (token !== undefined) env.PGPASSWORD = token;
  return env;
}

/** A libpq keyword/value connection string for other tools (never contains the token). */
export function libpqConnectionString(params: ClientParams): string {
  const parts: [string, string | undefined][] = [
    ["host", params.endpoint],
    ["hostaddr", params.hostaddr !== false ? (params.localHost ?? "127.0.0.1") : undefined],
    ["port", String(params.localPort)],
    ["user", params.user],
    ["dbname", params.database],
    ["sslmode", "verify-full"],
    ["sslrootcert", params.caBundle],
  ];
  return parts
    .filter((p): p is [string, string] => p[1] !== undefined && p[1] !== "")
    .map(([k, v]) => `${k}=${libpqQuote(v)}`)
    .join(" ");
}

/** libpq quoting: single quotes around values with spaces/quotes, backslash-escaping ' and \. */
export function libpqQuote(value: string): string {
  if (value !== "" && !/[\s'\\]/.test(value)) return value;
  return `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * `export` lines for `eval "$(dbtunnel connect --print-env ...)"`. The token is never printed: PGPASSWORD
 * is a command substitution that asks `dbtunnel token` for a fresh one, so it also outlives the 15 minutes.
 */
export function exportLines(env: Record<string, string>, tokenCommand?: string): string {
  const lines = Object.entries(env)
    .filter(([k]) => k !== "PGPASSWORD" && k !== "MYSQL_PWD")
    .map(([k, v]) => exportLine(k, v));
  if (tokenCommand) lines.push(`export PGPASSWORD="$(${tokenCommand})"`);
  return `${lines.join("\n")}\n`;
}
