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
import { openTunnel } from "../tunnel/index.ts";
import type { Tunnel, TunnelEvent } from "../tunnel/types.ts";
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
  readonly onTunnelEvent?: (event: TunnelEvent) => void;
  readonly signal?: AbortSignal;
}

/**
 * Streams through one Session Manager port-forwarding session. Today each stream is a loopback TCP
 * connection to the tunnel's local port (the tunnel's public interface); the session is opened lazily and
 * replaced when it closes (idle timeout, maximum duration, network loss it could not resume).
 */
export class SessionStreams implements StreamSource {
  private current: Promise<Tunnel> | undefined;
  private closing = false;

  constructor(private readonly options: SessionStreamsOptions) {}

  /** The live session, starting one if none is open. Rejects with the tunnel's error. */
  session(): Promise<Tunnel> {
    if (this.closing) return Promise.reject(new Error("the proxy is stopping"));
    if (!this.current) {
      const opening = openTunnel({
        target: this.options.ssmTarget,
        host: this.options.host,
        port: this.options.port,
        ssm: this.options.ssm,
        reason: this.options.reason,
        ...(this.options.documentName ? { documentName: this.options.documentName } : {}),
        ...(this.options.signal ? { signal: this.options.signal } : {}),
        ...(this.options.onTunnelEvent ? { onEvent: this.options.onTunnelEvent } : {}),
      });
      this.current = opening;
      const forget = () => {
        if (this.current === opening) this.current = undefined;
      };
      opening.then((tunnel) => tunnel.closed.then(forget), forget);
    }
    return this.current;
  }

  async open(): Promise<Duplex> {
    let tunnel: Tunnel;
    try {
      tunnel = await this.session();
    } catch (error) {
      throw new ClientFacingError("08001", `dbtunnel proxy: ${describeError(error).message}`);
    }
    return dialLoopback(tunnel.port);
  }

  async close(): Promise<void> {
    this.closing = true;
    const tunnel = await this.current?.catch(() => undefined);
    if (tunnel) await Promise.race([tunnel.close(), Bun.sleep(3000)]).catch(() => {});
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
