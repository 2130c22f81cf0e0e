import type postgres from "postgres";
import { createSandboxCa, type SandboxCa } from "./ca.ts";
import { generateSandboxCredentials } from "./credentials.ts";
import type { SandboxCredentials } from "./gateway/types.ts";
import { checkIamToken, parseMysqlBindDn, parsePostgresBindDn } from "./iam-token.ts";
import { type LdapVerifier, startLdapVerifier } from "./ldap-server.ts";
import { type Moto, startMoto } from "./moto.ts";
import { type SandboxMariadb, startMariadb } from "./mysql/server.ts";
import { clusterAccount, type SandboxPostgres, startPostgres } from "./postgres.ts";
import { createRdsMirror, ensureRdsRoles, type RdsMirror } from "./rds-mirror.ts";
import { createServerNames } from "./server-names.ts";
import {
  cleanupStaleSandboxes,
  createSandboxDir,
  defaultSandboxRoot,
  destroySandboxDir,
  destroySandboxDirDetached,
  recordChild,
} from "./state.ts";

export interface SandboxCoreOptions {
  /** @default "us-east-1" */
  readonly region?: string;
  /** Directory holding one subdirectory per sandbox. @default `$TMPDIR/dbtunnel-sandbox-<uid>` */
  readonly root?: string;
  /** @default fresh random credentials */
  readonly credentials?: Required<SandboxCredentials>;
  /** Aborting during start-up cleans up and rejects; aborting later stops the sandbox. */
  readonly signal?: AbortSignal;
  /** Directory with initdb/postgres. @default `DBTUNNEL_PG_BIN`, else /usr/lib/postgresql/15/bin */
  readonly postgresBinDir?: string;
  /** Python with moto 5. @default `DBTUNNEL_PYTHON`, else python3 */
  readonly python?: string;
  /** Log lines (token refusals, fallbacks). @default console.error */
  readonly log?: (line: string) => void;
}

/** moto + PostgreSQL (TLS, IAM tokens via LDAP) + CA + RDS mirror: everything but the SSM gateway. */
export interface SandboxCore {
  readonly dir: string;
  readonly region: string;
  readonly credentials: Required<SandboxCredentials>;
  readonly moto: Moto;
  readonly postgres: SandboxPostgres;
  readonly ldap: LdapVerifier;
  readonly ca: SandboxCa;
  readonly mirror: RdsMirror;
  /**
   * The MariaDB that plays MySQL databases: started on first call (the first dial of a MySQL endpoint
   * does it), then the same server; stopped by stop().
   */
  mysql(): Promise<SandboxMariadb>;
  /** Superuser client (TLS) the mirror uses; ended by stop(). */
  readonly admin: postgres.Sql;
  /** Milliseconds each part took to become ready, for bench/sandbox-up.ts. */
  readonly timings: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

/** Sandboxes of this process still running: removed synchronously if the process exits without stop(). */
const live = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // The children stop through their watchdogs when we exit (our pipe ends close); a detached cleaner
  // removes the files once they are gone. No SIGKILL here: it would leak PostgreSQL's shared memory.
  process.on("exit", () => {
    for (const dir of live) destroySandboxDirDetached(dir);
  });
}

async function timed<T>(timings: Record<string, number>, name: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await work();
  timings[name] = Math.round(performance.now() - start);
  return result;
}

export async function startSandboxCore(opts: SandboxCoreOptions = {}): Promise<SandboxCore> {
  const region = opts.region ?? "us-east-1";
  const root = opts.root ?? defaultSandboxRoot();
  const log = opts.log ?? ((line: string) => console.error(line));
  const credentials = opts.credentials ?? generateSandboxCredentials();
  const timings: Record<string, number> = {};
  opts.signal?.throwIfAborted();

  await timed(timings, "cleanupStale", async () => cleanupStaleSandboxes(root));
  const dir = createSandboxDir(root);
  live.add(dir);
  installExitHook();

  let mirror: RdsMirror | undefined;
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    const motoPromise = timed(timings, "moto", () =>
      startMoto({ dir, signal: opts.signal, ...(opts.python ? { python: opts.python } : {}) }),
    ).then((m) => {
      started.push(m);
      recordChild(dir, m.process.pgid);
      return m;
    });
    const ldapPromise = timed(timings, "ldap", () =>
      startLdapVerifier({
        log,
        // PostgreSQL binds as cn=<role>,dc=rds-iam; the sandbox's MySQL AWSAuthenticationPlugin as
        // cn=<user>,dc=rds-iam-mysql. Same checks; the token's endpoint must be of the asking engine.
        verify: async (dn, password) => {
          const mysql = parseMysqlBindDn(dn);
          const login = mysql ?? parsePostgresBindDn(dn);
          if (!login)
            return {
              ok: false,
              reason:
                "bind DN is not cn=<user>,dc=<db-N|any>,dc=rds-iam or cn=<user>,dc=<address>,dc=rds-iam-mysql",
            };
          if (!mirror) return { ok: false, reason: "the sandbox is still starting" };
          const m = mirror;
          const family = mysql ? "mysql" : "postgres";
          const slot = login.slot;
          return checkIamToken(password, {
            credentials,
            region,
            loginUser: login.user,
            // Through a tunnel a login arrives from its database's slot address: the token must be signed
            // for that database. Direct connections to the shared port (no RDS equivalent) accept any
            // endpoint of the engine's databases.
            isDatabaseEndpoint: (host, port) =>
              slot !== undefined
                ? m.isEndpointOfSlot(host, port, slot, family)
                : m.isDatabaseEndpoint(host, port, family),
          });
        },
      }),
    ).then((l) => {
      started.push(l);
      return l;
    });
    const caPromise = timed(timings, "ca", async () =>
      createSandboxCa({ dir, region, keyOwner: await clusterAccount() }),
    );
    // initdb does not need the certificate or the LDAP port: it runs while those are made.
    const pgPromise = timed(timings, "postgres", () =>
      startPostgres({
        dir,
        ca: caPromise,
        ldapPort: ldapPromise.then((l) => l.port),
        region,
        signal: opts.signal,
        ...(opts.postgresBinDir ? { binDir: opts.postgresBinDir } : {}),
      }),
    ).then((pg) => {
      started.push(pg);
      recordChild(dir, pg.process.pgid);
      return pg;
    });
    // allSettled, not all: a part that fails fast must not leave a slower one starting behind our back.
    const settled = await Promise.allSettled([motoPromise, ldapPromise, caPromise, pgPromise]);
    const failed = settled.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
    const [moto, ldap, ca, pg] = await Promise.all([motoPromise, ldapPromise, caPromise, pgPromise]);
    const admin = pg.connect();
    started.push({ stop: () => admin.end({ timeout: 1 }) });
    // Like RDS, rds_iam exists from the start: `GRANT rds_iam TO x` works before any tunnel was opened.
    await ensureRdsRoles(admin);
    let mariadb: Promise<SandboxMariadb> | undefined;
    let stopped = false;
    const mysql = () => {
      if (stopped) return Promise.reject(new Error("the sandbox has stopped"));
      mariadb ??= startMariadb({ dir, cacheRoot: root, ca, verifierPort: ldap.port }).then(
        (server) => {
          recordChild(dir, server.process.pgid);
          return server;
        },
        (error: unknown) => {
          // A failed start is retried by the next dial instead of being remembered.
          mariadb = undefined;
          throw error;
        },
      );
      return mariadb;
    };
    mirror = createRdsMirror({
      motoUrl: moto.url,
      region,
      credentials,
      admin,
      postgresPort: pg.port,
      mysql,
      log,
      ensureCertificateCovers: createServerNames({
        ca,
        admin,
        probe: (servername) => pg.connect("postgres", servername),
      }),
    });

    let stopping: Promise<void> | undefined;
    const core: SandboxCore = {
      dir,
      region,
      credentials,
      moto,
      postgres: pg,
      ldap,
      ca,
      mirror,
      mysql,
      admin,
      timings,
      stop() {
        stopping ??= (async () => {
          stopped = true;
          await admin.end({ timeout: 1 }).catch(() => {});
          const mysqlStopped = mariadb?.then((server) => server.stop()).catch(() => {});
          await Promise.allSettled([pg.stop(), moto.stop(), ldap.stop(), mysqlStopped]);
          destroySandboxDir(dir);
          live.delete(dir);
        })();
        return stopping;
      },
    };
    opts.signal?.addEventListener("abort", () => void core.stop(), { once: true });
    return core;
  } catch (error) {
    await Promise.allSettled(started.map((part) => part.stop()));
    destroySandboxDir(dir);
    live.delete(dir);
    throw error;
  }
}
