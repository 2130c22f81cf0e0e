import type postgres from "postgres";
import { issueServerCertificate, type SandboxCa, wildcardFor } from "./ca.ts";

export interface ServerNamesOptions {
  readonly ca: SandboxCa;
  /** Superuser client, for pg_reload_conf(). */
  readonly admin: postgres.Sql;
  /** Opens a superuser connection verifying the server certificate against `servername`. */
  readonly probe: (servername: string) => postgres.Sql;
}

/**
 * Keeps the PostgreSQL server certificate valid for every endpoint the sandbox serves. Instance endpoints
 * share one wildcard; Aurora cluster endpoints in moto carry a random label per cluster, so the certificate
 * is re-issued with the new wildcard and PostgreSQL reloads it (open connections keep theirs).
 */
export function createServerNames(opts: ServerNamesOptions): (hosts: readonly string[]) => Promise<void> {
  const names = new Set(opts.ca.serverNames);
  let queue: Promise<unknown> = Promise.resolve();

  async function waitUntilServed(host: string): Promise<void> {
    // pg_reload_conf() only signals the postmaster; prove that new connections get the new certificate.
    const deadline = Date.now() + 5000;
    for (;;) {
      const sql = opts.probe(host);
      try {
        await sql`select 1`;
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new Error(
            `PostgreSQL did not serve a certificate for ${host} after reload: ${(error as Error).message}`,
          );
        }
      } finally {
        await sql.end({ timeout: 1 });
      }
      await Bun.sleep(25);
    }
  }

  return (hosts) => {
    const run = queue.then(async () => {
      const missing = [...new Set(hosts.map(wildcardFor))].filter((n) => !names.has(n));
      if (missing.length === 0) return;
      for (const name of missing) names.add(name);
      await issueServerCertificate(opts.ca.dir, [...names]);
      await opts.admin`select pg_reload_conf()`;
      const [first] = hosts;
      if (first) await waitUntilServed(first);
    });
    queue = run.catch(() => {});
    return run;
  };
}
