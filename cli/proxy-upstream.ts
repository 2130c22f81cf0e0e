/**
 * Wires a proxy to a stack: byte streams through a Session Manager session (started on first need and
 * started again after it ends, so the proxy outlives sessions), fresh IAM tokens per connection, and the
 * CA bundle. Targets behind the same jump host and endpoint share one session (`dbtunnel up`).
 */
import { readFileSync } from "node:fs";
import { connect as connectTcp, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { ClientFacingError, type StreamSource, type UpstreamTarget } from "../proxy/types.ts";
import { openTunnelPool, type PoolEvent, type TunnelPool } from "../tunnel/pool.ts";
import { describeError } from "./errors.ts";
import { signToken } from "./pipeline/index.ts";
import { isMysql, type StackTarget } from "./target.ts";

export interface SessionStreamsOptions {
  /** StartSession target (instance id or ECS Exec target). */
  readonly ssmTarget: string;
  readonly host: string;
  readonly port: number;
  readonly ssm: SSMClient;
  readonly reason: string;
  /** The stack's pinned Port document (StackTarget.sessionDocumentName). @default the tunnel's default */
  readonly documentName?: string;
  /** Sessions kept open; connections are spread over them (each session's download is capped). @default 1 */
  readonly sessions?: number;
  /** Before a replacement session: make sure the jump host runs (it may have stopped itself). */
  readonly beforeReopen?: () => Promise<undefined | { readonly target: string }>;
  readonly onPoolEvent?: (event: PoolEvent) => void;
}

/** How long a client connection waits for a live session (while a replacement starts) before it is refused. */
const CONNECTION_WAIT_MS = 30_000;

/**
 * Streams through a pool of Session Manager sessions (tunnel/pool.ts): a loopback listener that outlives
 * its sessions, replaces a session that ends (idle timeout, maximum duration, terminated, network loss it
 * could not resume) and spreads connections over `sessions`. Each stream is a loopback TCP connection to
 * the pool's port; what flows through it is the database's TLS, which needs a token to log in.
 */
export class SessionStreams implements StreamSource {
  private pool: Promise<TunnelPool> | undefined;
  private closing = false;

  constructor(private readonly options: SessionStreamsOptions) {}

  /** Starts the pool (once); rejects with the tunnel's error if no first session can be started. */
  start(): Promise<TunnelPool> {
    if (this.closing) return Promise.reject(new Error("the proxy is stopping"));
    if (!this.pool) {
      const opening = openTunnelPool({
        target: this.options.ssmTarget,
        host: this.options.host,
        port: this.options.port,
        ssm: this.options.ssm,
        reason: this.options.reason,
        ...(this.options.documentName ? { documentName: this.options.documentName } : {}),
        sessions: this.options.sessions ?? 1,
        connectionWaitMs: CONNECTION_WAIT_MS,
        ...(this.options.beforeReopen ? { beforeReopen: this.options.beforeReopen } : {}),
        ...(this.options.onPoolEvent ? { onEvent: this.options.onPoolEvent } : {}),
      });
      this.pool = opening;
      opening.catch(() => {
        if (this.pool === opening) this.pool = undefined;
      });
    }
    return this.pool;
  }

  async open(): Promise<Duplex> {
    let pool: TunnelPool;
    try {
      pool = await this.start();
    } catch (error) {
      throw new ClientFacingError("08001", `dbtunnel proxy: ${describeError(error).message}`);
    }
    return dialLoopback(pool.port);
  }

  async close(): Promise<void> {
    this.closing = true;
    const pool = await this.pool?.catch(() => undefined);
    if (pool) await Promise.race([pool.close(), Bun.sleep(3000)]).catch(() => {});
  }
}

function dialLoopback(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: "127.0.0.1", port });
    socket.setNoDelay(true);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** The proxy's view of a stack's database: engine, real endpoint, CA, streams and a token per connection. */
export function upstreamFor(
  target: StackTarget,
  streams: StreamSource,
  caBundlePath: string,
  database: string | undefined,
): UpstreamTarget {
  const { endpoint, port } = target.db;
  return {
    engine: isMysql(target.db.engine) ? "mysql" : "postgres",
    endpoint,
    port,
    ca: readFileSync(caBundlePath, "utf8"),
    streams,
    // Signed when each connection starts, for the real endpoint and port: valid however long the proxy runs.
    tokens: (user) => signToken(target, user),
    ...(database ? { defaultDatabase: database } : {}),
  };
}

/** Pool events as the proxy's warnings (a replaced session is news; its closed connections were reported). */
export function poolEventLine(name: string, event: PoolEvent): string | undefined {
  switch (event.type) {
    case "session-ended":
      return `${name}: Session closed (${event.reason.kind === "local" ? "here" : event.reason.message}); starting a new one.`;
    case "session-start-failed":
      return `${name}: a new session could not be started (${event.message}); retrying in ${Math.round(event.retryInMs / 1000)} s.`;
    case "connection-refused":
      return `${name}: a client connection waited too long for a session: ${event.message}`;
    default:
      return undefined;
  }
}
