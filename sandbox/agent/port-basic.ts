/**
 * Basic port session, agent side (ssm-session-protocol.md §10.4): one destination connection carrying
 * the raw tunnel bytes, dialled at session start. DisconnectToPort (or a destination EOF) closes it and
 * the next client data triggers a redial; until that connection is up, client data is not ready.
 */
import { connect, type Socket } from "node:net";
import { DESTINATION_HIGH_WATER, type PortContext, type PortSession, resolve } from "./port-session.ts";
import type { Delivery } from "./reliable-channel.ts";

export class BasicPortSession implements PortSession {
  private socket: Socket | undefined;
  private connected = false;
  private dialing = false;
  private paused = false;
  private disposed = false;
  private everConnected = false;
  private awaitingDrain = false;

  constructor(private readonly ctx: PortContext) {
    this.dial();
  }

  inbound(bytes: Uint8Array): Delivery {
    if (this.disposed) return "not-ready";
    if (!this.connected || !this.socket) {
      if (!this.dialing) this.dial(); // "reconnect needed": the next data redials
      return "not-ready";
    }
    if (this.socket.writableLength > DESTINATION_HIGH_WATER) {
      if (!this.awaitingDrain) {
        this.awaitingDrain = true;
        this.socket.once("drain", () => {
          this.awaitingDrain = false;
          this.ctx.onReady();
        });
      }
      return "not-ready";
    }
    this.ctx.stats.bytesIn += bytes.length;
    this.socket.write(bytes);
    return "handled";
  }

  disconnect(): void {
    this.dropConnection();
  }

  resume(): void {
    if (this.paused) {
      this.paused = false;
      this.socket?.resume();
    }
  }

  dispose(): void {
    this.disposed = true;
    this.dropConnection();
  }

  private dropConnection(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.connected = false;
    this.paused = false;
    this.awaitingDrain = false;
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
          this.everConnected = true;
          ctx.onReady();
        });
        socket.on("data", (chunk: Buffer) => {
          if (this.socket !== socket) return;
          ctx.output(chunk);
          if (!ctx.canSend()) {
            this.paused = true;
            socket.pause();
          }
        });
        socket.once("error", (error) => {
          if (this.socket === socket && !this.connected) this.failed(error.message);
        });
        socket.once("close", () => {
          // Destination read failed / EOF: close and wait for client data to redial.
          if (this.socket === socket) {
            this.socket = undefined;
            this.connected = false;
          }
        });
      },
      (error: Error) => this.failed(`cannot resolve ${ctx.host}: ${error.message}`),
    );
  }

  private failed(why: string): void {
    const ctx = this.ctx;
    this.dialing = false;
    this.socket = undefined;
    ctx.stats.dialFailures++;
    ctx.log(`cannot connect to ${ctx.host}:${ctx.port}: ${why}`);
    // The agent's port plugin fails to start without its first connection; a later redial failure just
    // leaves the session waiting for the next client data.
    if (!this.everConnected && !this.disposed) ctx.onFatal(`Unable to connect to ${ctx.host}:${ctx.port}`);
  }
}
