/**
 * The local sandbox account: moto (AWS APIs) + the SSM gateway/agent emulator (AWS_ENDPOINT_URL) + a real
 * PostgreSQL that plays every RDS database in moto, with TLS from a sandbox CA and IAM-token logins.
 * See sandbox/README.md.
 */
import { type SandboxCore, type SandboxCoreOptions, startSandboxCore } from "./core.ts";
import { startGateway } from "./gateway/index.ts";
import type { FaultPlan, Gateway, SandboxCredentials } from "./gateway/types.ts";
import type { SandboxMariadb } from "./mysql/server.ts";
import type { SandboxPostgres } from "./postgres.ts";
import type { RdsMirror } from "./rds-mirror.ts";

export type { SandboxCoreOptions } from "./core.ts";
export type { SandboxMariadb } from "./mysql/server.ts";
export type { SandboxPostgres, SuperuserConnection } from "./postgres.ts";

export interface SandboxOptions extends SandboxCoreOptions {
  /** Loopback port of the gateway (AWS_ENDPOINT_URL). @default 0 (a free port) */
  readonly gatewayPort?: number;
  /** Faults the agent emulator applies to every new session. @default none */
  readonly defaultFaults?: FaultPlan;
  /** A second, known key pair that may not start sessions (tests of AccessDenied). @default none */
  readonly restrictedCredentials?: SandboxCredentials;
  /** Session Manager's idle timeout: no tunnel data for this long ends a session. @default 20 min */
  readonly idleSessionTimeoutMs?: number;
}

/** The environment a client of the sandbox needs (contract: AWS SDK, the CLI, psql wrappers). */
export interface SandboxEnv {
  readonly AWS_ENDPOINT_URL: string;
  readonly AWS_ACCESS_KEY_ID: string;
  readonly AWS_SECRET_ACCESS_KEY: string;
  readonly AWS_SESSION_TOKEN: string;
  readonly AWS_REGION: string;
  readonly AWS_DEFAULT_REGION: string;
  /** The sandbox CA: plays the RDS CA bundle for sslmode=verify-full. */
  readonly DBTUNNEL_CA_BUNDLE: string;
  /** No instance-metadata lookups: the SDK must use the sandbox credentials only. */
  readonly AWS_EC2_METADATA_DISABLED: "true";
}

export interface Sandbox {
  readonly env: SandboxEnv;
  readonly region: string;
  readonly credentials: Required<SandboxCredentials>;
  /** moto itself (the gateway proxies to it); for resets and test set-up that bypasses the gateway. */
  readonly motoUrl: string;
  readonly gateway: Gateway;
  /** The local PostgreSQL (127.0.0.1, free port) and its superuser connection for tests. */
  readonly postgres: SandboxPostgres;
  readonly caBundlePath: string;
  /** Port of the LDAP IAM-token verifier PostgreSQL asks (127.0.0.1). */
  readonly ldapPort: number;
  /** Sandbox directory (logs, certificates, cluster); removed by stop(). */
  readonly dir: string;
  /** RDS endpoint → local PostgreSQL or MariaDB, creating master role and database on first use. */
  readonly mirror: RdsMirror;
  /** The MariaDB (TLS only, IAM tokens) that plays MySQL databases, started on first call or first MySQL dial. */
  mysql(): Promise<SandboxMariadb>;
  /** Milliseconds per part until ready (moto, postgres, ca, ldap, gateway, total). */
  readonly timings: Readonly<Record<string, number>>;
  /** Forget every AWS resource in moto (POST /moto-api/reset). */
  resetMoto(): Promise<void>;
  /** Stops everything and removes the directory; safe to call twice. */
  stop(): Promise<void>;
}

export function sandboxEnv(gatewayUrl: string, core: SandboxCore): SandboxEnv {
  return {
    AWS_ENDPOINT_URL: gatewayUrl,
    AWS_ACCESS_KEY_ID: core.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: core.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: core.credentials.sessionToken,
    AWS_REGION: core.region,
    AWS_DEFAULT_REGION: core.region,
    DBTUNNEL_CA_BUNDLE: core.ca.caCertPath,
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

/**
 * Starts a sandbox account. moto and PostgreSQL start in parallel; everything listens on free loopback
 * ports so several sandboxes (parallel test files) coexist. Nothing survives stop(), a failed start, or
 * the death of this process (see supervisor.ts and state.ts).
 */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const started = performance.now();
  const core = await startSandboxCore(opts);
  let gateway: Gateway;
  const gatewayStart = performance.now();
  try {
    gateway = await startGateway({
      motoUrl: core.moto.url,
      region: core.region,
      credentials: core.credentials,
      resolveDestination: core.mirror.resolveDestination,
      ...(opts.gatewayPort !== undefined ? { port: opts.gatewayPort } : {}),
      ...(opts.defaultFaults ? { defaultFaults: opts.defaultFaults } : {}),
      ...(opts.restrictedCredentials ? { restrictedCredentials: opts.restrictedCredentials } : {}),
      ...(opts.idleSessionTimeoutMs !== undefined ? { idleSessionTimeoutMs: opts.idleSessionTimeoutMs } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
  } catch (error) {
    await core.stop();
    throw error;
  }
  const timings = {
    ...core.timings,
    gateway: Math.round(performance.now() - gatewayStart),
    total: Math.round(performance.now() - started),
  };
  let stopping: Promise<void> | undefined;
  const sandbox: Sandbox = {
    env: sandboxEnv(gateway.url, core),
    region: core.region,
    credentials: core.credentials,
    motoUrl: core.moto.url,
    gateway,
    postgres: core.postgres,
    caBundlePath: core.ca.caCertPath,
    ldapPort: core.ldap.port,
    dir: core.dir,
    mirror: core.mirror,
    mysql: core.mysql,
    timings,
    resetMoto: () => core.moto.reset(),
    stop() {
      stopping ??= (async () => {
        await gateway.stop().catch(() => {});
        await core.stop();
      })();
      return stopping;
    },
  };
  opts.signal?.addEventListener("abort", () => void sandbox.stop(), { once: true });
  return sandbox;
}
