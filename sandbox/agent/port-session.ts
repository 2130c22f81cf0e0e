import type { DestinationResolver } from "../gateway/types.ts";
import type { Delivery } from "./reliable-channel.ts";
import type { MutableStats } from "./stats.ts";

/** What a port session (mux or basic) needs from the agent session around it. */
export interface PortContext {
  /** Destination from the document parameters ("localhost" when the document has no host). */
  readonly host: string;
  readonly port: number;
  readonly resolveDestination: DestinationResolver;
  /** Current value of the refuseDial fault. */
  readonly refuseDial: () => boolean;
  /** Tunnel bytes for the client (chunked into ≤ 1024-byte Output messages by the caller). */
  readonly output: (bytes: Uint8Array) => void;
  /** Sends a flag message (PayloadType 10) after any output written before it. */
  readonly sendFlag: (flag: number) => void;
  /** False while the unacked window is full: pause the destination sockets. */
  readonly canSend: () => boolean;
  /** A not-ready session became ready again (buffered client data can be retried). */
  readonly onReady: () => void;
  /** The port session cannot go on; the agent ends the session with this reason. */
  readonly onFatal: (reason: string) => void;
  readonly stats: MutableStats;
  readonly log: (line: string) => void;
}

export interface PortSession {
  /** An in-order client Output payload. "not-ready" = no live connection: drop without ack. */
  inbound(bytes: Uint8Array): Delivery;
  /** DisconnectToPort flag from the client (basic mode). */
  disconnect(): void;
  /** The unacked window has room again: resume paused destination sockets. */
  resume(): void;
  dispose(): void;
}

/**
 * Inbound back-pressure: while this many bytes wait to be written to destination sockets, client data
 * is treated as not ready (unacked, so the client resends later) instead of buffering without bound.
 * Mirrors smux v1's session-wide MaxReceiveBuffer (4 MiB), with headroom.
 */
export const DESTINATION_HIGH_WATER = 8 * 1024 * 1024;

/** The destination as the jump host's "VPC DNS" resolves it. */
export async function resolve(
  ctx: PortContext,
): Promise<{ host: string; port: number; localAddress?: string }> {
  return ctx.resolveDestination(ctx.host, ctx.port);
}
