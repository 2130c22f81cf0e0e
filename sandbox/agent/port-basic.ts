/**
 * Basic port session, agent side (ssm-session-protocol.md §10.4; amazon-ssm-agent
 * agent/session/plugins/port/port_basic.go): one destination connection carrying the raw tunnel bytes,
 * dialled at session start. DisconnectToPort (or a destination EOF / read error) closes it and the next
 * client data triggers a redial; until that connection is up, client data is not ready. The read loop is
 * paced like the agent's and hands on the read it already holds when the connection is closed under it,
 * so output of a closed connection can reach the client after its DisconnectToPort (the late output a
 * client must discard). A payload that finds the connection's send buffer full blocks the agent's reader.
 */
import { connect, type Socket } from "node:net";
import { DestinationReader } from "./destination-reader.ts";
import { BASIC_SEND_BUFFER, type PortContext, type PortSession, resolve } from "./port-session.ts";
import type { Delivery } from "./reliable-channel.ts";

export class BasicPortSession implements PortSession {
  private socket: Socket | undefined;
  private reader: DestinationReader | undefined;
  private connected = false;
  private dialing = false;
  private disposed = false;
  private blocking = false;

  constructor(private readonly ctx: PortContext) {
    this.dial();
  }

  inbound(bytes: Uint8Array): Delivery {
    if (this.disposed) return "not-ready";
    if (!this.connected || !this.socket) {
      if (!this.dialing) this.dial(); // "reconnect needed": the next data redials
      return "not-ready";
    }
    this.ctx.stats.bytesIn += bytes.length;
    const socket = this.socket;
    socket.write(bytes);
    if (!this.blocking && socket.writableLength > BASIC_SEND_BUFFER) {
      this.blocking = true;
      this.ctx.blockReader();
      const unblock = () => {
        socket.off("drain", unblock);
        socket.off("close", unblock);
        this.blocking = false;
        this.ctx.unblockReader();
      };
      socket.on("drain", unblock);
      socket.on("close", unblock);
    }
    return "handled";
  }

  disconnect(): void {
    // The read in progress (up to one read's worth already taken from the socket) still goes out.
    this.reader?.flushOneRead();
    this.dropConnection();
  }

  dispose(): void {
    this.disposed = true;
    this.dropConnection();
  }

  private dropConnection(): void {
    const socket = this.socket;
    this.reader?.stop();
    this.reader = undefined;
    this.socket = undefined;
    this.connected = false;
    socket?.destroy();
  }

  private dial(): void {
    const ctx = this.ctx;
    this.dialing = true;
    if (ctx.refuseDial()) {
      ctx.stats.faults.dialsRefused++;
      this.failed("dial refused by fault plan");
      return;
    }
    resolve(ctx).then(
      (dst) => {
        if (this.disposed) return;
        const socket = connect({
          host: dst.host,
          port: dst.port,
          ...(dst.localAddress ? { localAddress: dst.localAddress } : {}),
        });
        this.socket = socket;
        socket.setNoDelay(true);
        socket.once("connect", () => {
          this.dialing = false;
          this.connected = true;
          ctx.onReady();
        });
        this.reader = new DestinationReader(socket, {
          clock: ctx.clock,
          paced: ctx.paced,
          isActive: ctx.isActive,
          onRead: (bytes) => ctx.output(bytes),
          onEnd: () => {
            // Destination read failed / EOF: close and wait for client data to redial.
            if (this.socket === socket) {
              this.socket = undefined;
              this.reader = undefined;
              this.connected = false;
            }
          },
        });
        socket.once("error", (error) => {
          if (this.socket === socket && !this.connected) this.failed(error.message);
        });
      },
      (error: Error) => this.failed(`cannot resolve ${ctx.host}: ${error.message}`),
    );
  }

  private failed(why: string): void {
    const ctx = this.ctx;
    this.dialing = false;
    this.socket = undefined;
    this.reader = undefined;
    ctx.stats.dialFailures++;
    ctx.log(`cannot connect to ${ctx.host}:${ctx.port}: ${why}`);
    // Without its first connection the plugin fails to start; a failed redial makes HandleStreamMessage
    // fail and the write pump exit with an error code: either way the session ends (port_basic.go).
    if (!this.disposed) ctx.onFatal(`Unable to connect to ${ctx.host}:${ctx.port}`);
  }
}
