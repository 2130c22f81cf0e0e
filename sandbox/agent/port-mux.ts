/**
 * Mux port session, agent side (ssm-session-protocol.md §10.3): an smux v1 server over the data-channel
 * bytes; per accepted stream the destination is dialled and bytes are copied both ways, with a full
 * close on either side's EOF. A failed or refused dial sends ConnectToPortError and FINs the stream.
 */
import { connect, type Socket } from "node:net";
import { FlagValue } from "../../tunnel/codec.ts";
import { encodeSmuxFrame, SmuxCmd } from "../../tunnel/smux-frame.ts";
import { DESTINATION_HIGH_WATER, type PortContext, type PortSession, resolve } from "./port-session.ts";
import type { Delivery } from "./reliable-channel.ts";
import { type SmuxKeepalive, SmuxServer } from "./smux-server.ts";

interface StreamState {
  socket: Socket | undefined;
  connected: boolean;
  /** Client bytes that arrived before the dial completed. */
  pending: Uint8Array[];
  /** The client FINed before the dial completed. */
  remoteClosed: boolean;
}

export class MuxPortSession implements PortSession {
  private readonly smux: SmuxServer;
  private readonly streams = new Map<number, StreamState>();
  private readonly paused = new Set<Socket>();
  private disposed = false;
  /** Client data was refused because destinations were not draining: report readiness on 'drain'. */
  private congested = false;

  constructor(
    private readonly ctx: PortContext,
    keepalive?: Omit<SmuxKeepalive, "onTimeout">,
  ) {
    this.smux = new SmuxServer({
      onOpen: (id) => this.open(id),
      onData: (id, data) => this.toDestination(id, data),
      onRemoteClose: (id) => this.remoteClose(id),
      write: (bytes) => ctx.output(bytes),
      onProtocolError: (error) => ctx.onFatal(`smux protocol error: ${error.message}`),
    });
    if (keepalive) {
      this.smux.startKeepalive({
        ...keepalive,
        onTimeout: () => ctx.onFatal("smux keepalive timeout: no frame from the client"),
      });
    }
  }

  inbound(bytes: Uint8Array): Delivery {
    if (this.disposed || this.smux.isFailed) return "not-ready";
    if (this.bufferedTowardDestinations() > DESTINATION_HIGH_WATER) {
      this.congested = true;
      return "not-ready";
    }
    this.ctx.stats.bytesIn += bytes.length;
    this.smux.push(bytes);
    return "handled";
  }

  disconnect(): void {
    // DisconnectToPort is a basic-mode flag; in mux mode streams close with FIN.
  }

  resume(): void {
    for (const socket of this.paused) socket.resume();
    this.paused.clear();
  }

  dispose(): void {
    this.disposed = true;
    this.smux.dispose();
    for (const state of this.streams.values()) state.socket?.destroy();
    this.streams.clear();
    this.paused.clear();
  }

  private bufferedTowardDestinations(): number {
    let total = 0;
    for (const state of this.streams.values()) {
      total += state.socket?.writableLength ?? 0;
      for (const chunk of state.pending) total += chunk.length;
    }
    return total;
  }

  private open(id: number): void {
    const ctx = this.ctx;
    ctx.stats.streamsOpened++;
    if (ctx.refuseDial()) {
      ctx.stats.faults.dialsRefused++;
      this.dialFailed(id, "dial refused by fault plan");
      return;
    }
    const state: StreamState = { socket: undefined, connected: false, pending: [], remoteClosed: false };
    this.streams.set(id, state);
    resolve(ctx).then(
      (dst) => {
        if (this.disposed || this.streams.get(id) !== state) return;
        const socket = connect({
          host: dst.host,
          port: dst.port,
          ...(dst.localAddress ? { localAddress: dst.localAddress } : {}),
        });
        state.socket = socket;
        socket.setNoDelay(true);
        socket.once("connect", () => {
          state.connected = true;
          for (const chunk of state.pending) socket.write(chunk);
          state.pending = [];
          if (state.remoteClosed) this.closeDestination(id, state);
        });
        socket.on("data", (chunk: Buffer) => {
          if (this.streams.get(id) !== state) return;
          this.smux.send(id, chunk);
          if (!ctx.canSend()) {
            socket.pause();
            this.paused.add(socket);
          }
        });
        socket.on("drain", () => {
          if (this.congested && this.bufferedTowardDestinations() <= DESTINATION_HIGH_WATER) {
            this.congested = false;
            ctx.onReady();
          }
        });
        socket.once("error", (error) => {
          if (!state.connected) this.dialFailed(id, error.message);
        });
        socket.once("close", () => {
          this.paused.delete(socket);
          // Destination EOF or error after connecting: full close of the stream.
          if (state.connected && this.streams.get(id) === state) {
            this.streams.delete(id);
            this.smux.close(id);
          }
        });
      },
      (error: Error) => {
        if (this.streams.get(id) === state)
          this.dialFailed(id, `cannot resolve ${ctx.host}: ${error.message}`);
      },
    );
  }

  private dialFailed(id: number, why: string): void {
    const ctx = this.ctx;
    ctx.stats.dialFailures++;
    ctx.log(`stream ${id}: cannot connect to ${ctx.host}:${ctx.port}: ${why}`);
    this.streams.delete(id);
    ctx.sendFlag(FlagValue.ConnectToPortError);
    this.smux.close(id);
  }

  private toDestination(id: number, data: Uint8Array): void {
    const state = this.streams.get(id);
    if (!state) return;
    if (state.connected && state.socket) state.socket.write(data);
    else state.pending.push(data);
  }

  /** The client FINed: the agent closes its connection too (full close) and FINs back. */
  private remoteClose(id: number): void {
    const state = this.streams.get(id);
    if (!state) return;
    state.remoteClosed = true;
    if (state.connected) this.closeDestination(id, state);
    // Before the dial completes the close happens on connect (pending data is flushed first).
  }

  private closeDestination(id: number, state: StreamState): void {
    this.streams.delete(id);
    const socket = state.socket;
    if (socket) {
      this.paused.delete(socket);
      // end() flushes what the client sent before its FIN; destroy once that is written.
      socket.end(() => socket.destroy());
    }
    // smux.close is a no-op here when the FIN already removed the stream; the agent's close would FIN
    // back, so do that explicitly for a stream the client closed.
    this.ctx.output(encodeSmuxFrame(SmuxCmd.Fin, id));
  }
}
