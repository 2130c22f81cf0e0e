import type { Clock } from "../../tunnel/clock.ts";
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
  /** A destination write would block: the agent's WebSocket reader stops (acks too) until unblocked. */
  readonly blockReader: () => void;
  readonly unblockReader: () => void;
  /** Timers of the paced destination reads. */
  readonly clock: Clock;
  /** Destination reads paced like the agent's (1024 bytes, then 1 ms). */
  readonly paced: boolean;
  /** False while publication is paused (no client WebSocket): destination read loops skip reading. */
  readonly isActive: () => boolean;
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
  dispose(): void;
}

/**
 * Mux: smux v1's session-wide MaxReceiveBuffer (4 MiB, xtaci/smux DefaultConfig, used by port_mux.go).
 * When this many client bytes wait for destinations, smux's reader stops, the pipe write from the data
 * channel blocks, and with it the agent's whole WebSocket reader.
 */
export const SMUX_RECEIVE_BUFFER = 4 * 1024 * 1024;
/**
 * Basic: port_basic.go writes each payload straight into the TCP connection (net.Conn.Write blocks once
 * the kernel's send buffer is full); this is about such a buffer.
 */
export const BASIC_SEND_BUFFER = 256 * 1024;

/** The destination as the jump host's "VPC DNS" resolves it. */
export async function resolve(
  ctx: PortContext,
): Promise<{ host: string; port: number; localAddress?: string }> {
  return ctx.resolveDestination(ctx.host, ctx.port);
}
