/**
 * What `dbtunnel proxy` and `dbtunnel up` tell the user: the settings to paste into a GUI (and the same as
 * a `listening` JSON event), then one line per client connection and disconnection.
 */
import type { ProxyEvent } from "../proxy/types.ts";
import type { Reporter } from "./ui.ts";

export interface ProxySettings {
  /** Profile target name (`dbtunnel up`), or the stack name. */
  readonly name: string;
  readonly engine: "postgres" | "mysql";
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly user: string;
  readonly database?: string;
  /** "disable": plain loopback; "require": the proxy's local certificate (no verification needed on loopback). */
  readonly ssl: "disable" | "require";
  readonly localCertificate?: string;
  /** false with --no-local-auth: any password (or none) is accepted. */
  readonly localAuth: boolean;
  /** The real endpoint behind the proxy, for information. */
  readonly endpoint: string;
}

export const SHOW_SECRET_COMMAND = "dbtunnel proxy --show-secret";

export function jdbcUrl(s: ProxySettings): string {
  if (s.engine === "mysql") {
    const ssl = s.ssl === "require" ? "sslMode=REQUIRED" : "sslMode=DISABLED";
    return `jdbc:mysql://${s.host}:${s.port}/${s.database ?? ""}?${ssl}`;
  }
  return `jdbc:postgresql://${s.host}:${s.port}/${s.database ?? ""}?sslmode=${s.ssl}`;
}

export function clientCommand(s: ProxySettings): string {
  if (s.engine === "mysql") {
    return `mysql -h ${s.host} -P ${s.port} -u ${s.user} -p ${s.ssl === "require" ? "--ssl" : "--skip-ssl"} ${s.database ?? ""}`.trimEnd();
  }
  const db = s.database ? ` dbname=${s.database}` : "";
  return `psql "host=${s.host} port=${s.port} user=${s.user}${db} sslmode=${s.ssl}"`;
}

/**
 * The `listening` event and the human settings block. The secret itself is shown only when `showSecret`
 * (stdout is a terminal): piped output and JSON carry the command that prints it instead.
 */
export function announce(
  ui: Reporter,
  s: ProxySettings,
  secret: string | undefined,
  showSecret: boolean,
): void {
  ui.event({
    type: "listening",
    name: s.name,
    engine: s.engine,
    host: s.host,
    port: s.port,
    user: s.user,
    database: s.database ?? null,
    ssl: s.ssl,
    localCertificate: s.localCertificate ?? null,
    password: s.localAuth ? { command: SHOW_SECRET_COMMAND } : null,
    endpoint: s.endpoint,
    jdbcUrl: jdbcUrl(s),
    command: clientCommand(s),
  });
  const password = !s.localAuth
    ? "(none: local authentication is off)"
    : showSecret && secret
      ? `${secret}   (your local dbtunnel secret; '${SHOW_SECRET_COMMAND}' prints it)`
      : `your local dbtunnel secret: run '${SHOW_SECRET_COMMAND}'`;
  const ssl =
    s.ssl === "require"
      ? `require (local certificate ${s.localCertificate ?? ""}; do not verify it)`
      : "off / disable (the proxy does verified TLS to the database itself)";
  const lines = [
    `${s.name}: ${s.engine} proxy on ${s.host}:${s.port} → ${s.endpoint} (TLS verified, IAM token per connection)`,
    `  Host      ${s.host}`,
    `  Port      ${s.port}`,
    `  User      ${s.user}`,
    `  Database  ${s.database ?? "(any)"}`,
    `  Password  ${password}`,
    `  SSL       ${ssl}`,
    `  JDBC URL  ${jdbcUrl(s)}`,
    `  Command   ${clientCommand(s)}`,
  ];
  ui.result(lines.join("\n"));
}

/** One line per client connection event (and a JSON event for each). */
export function reportProxyEvent(ui: Reporter, name: string, event: ProxyEvent): void {
  ui.event({ ...event, proxy: name });
  const at = new Date().toISOString().slice(11, 19);
  const tag = `${at} ${name} #${event.id}`;
  switch (event.type) {
    case "client-authenticated":
      ui.info(`${tag} connected as ${event.user} to ${event.database}`);
      break;
    case "client-refused":
      ui.warn(`${tag} refused${event.user ? ` (${event.user})` : ""}: ${event.reason}`);
      break;
    case "upstream-failed":
      ui.warn(`${tag} failed${event.user ? ` (${event.user})` : ""}: ${event.reason}`);
      break;
    case "client-disconnected":
      if (event.bytesIn + event.bytesOut > 0) {
        ui.info(
          `${tag} disconnected (${kb(event.bytesIn)} in, ${kb(event.bytesOut)} out, ${(event.ms / 1000).toFixed(1)} s)`,
        );
      } else ui.debug(`${tag} closed`);
      break;
    case "cancel-forwarded":
      ui.info(`${tag} cancel request forwarded`);
      break;
    default:
      ui.debug(`${tag} ${event.type}`);
  }
}

function kb(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} kB`;
}
