/**
 * Step 5, "client parameters": how a database client reaches the database through the session, always
 * verify-full against the REAL endpoint name. libpqEnv / libpqConnectionString (client-env.ts) render them
 * for psql and other libpq tools, mysqlArgs / mysqlExecEnv (mysql-client.ts) for mysql and mariadb.
 */
import type { ClientParams } from "../client-env.ts";
import type { StackTarget } from "../target.ts";

export interface ClientOptions {
  /** The session's local port on 127.0.0.1. */
  readonly localPort: number;
  readonly user: string;
  /** @default the stack's db_name */
  readonly database?: string;
  readonly caBundle: string;
  /**
   * libpq dials 127.0.0.1 (hostaddr) and verifies the endpoint name; false when the name itself resolves
   * to 127.0.0.1 (a hosts file, system or private). @default true
   */
  readonly hostaddr?: boolean;
}

export function clientParameters(target: StackTarget, options: ClientOptions): ClientParams {
  return {
    endpoint: target.db.endpoint,
    localPort: options.localPort,
    user: options.user,
    database: options.database ?? target.db.name,
    caBundle: options.caBundle,
    hostaddr: options.hostaddr ?? true,
  };
}
