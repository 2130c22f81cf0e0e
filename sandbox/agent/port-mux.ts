/**
 * Mux port session, agent side (ssm-session-protocol.md §10.3; amazon-ssm-agent
 * agent/session/plugins/port/port_mux.go): an smux v1 server over the data-channel bytes; per accepted
 * stream the destination is dialled and bytes are copied both ways, with a full close on either side's
 * EOF. A failed or refused dial sends ConnectToPortError and FINs the stream. Destinations are copied into
 * the smux stream as they are read (io.Copy); the pacing is on smux's output, read 1024 bytes per 1 ms
 * (mux-pipe.ts, transferDataToMgs), which never pauses for unacked output; only a full pipe stops the
 * copies. Client bytes beyond smux's 4 MiB receive buffer block the agent's WebSocket reader until
 * destinations drain.
 */
import { connect, type Socket } from "node:net";
import { FlagValue } from "../../tunnel/codec.ts";
import { encodeSmuxFrame, SmuxCmd } from "../../tunnel/smux-frame.ts";
import { DestinationReader } from "./destination-reader.ts";
import { MuxPipe } from "./mux-pipe.ts";
import { type PortContext, type PortSession, resolve, SMUX_RECEIVE_BUFFER } from "./port-session.ts";
import type { Delivery } from "./reliable-channel.ts";
import { type SmuxKeepalive, SmuxServer } from "./smux-server.ts";

interface StreamState {
  socket: Socket | undefined;
  reader: DestinationReader | undefined;
  connected: boolean;
  /** Client bytes that arrived before the dial completed. */
  pending: Uint8Array[];
  /** The client FINed before the dial completed. */
  remoteClosed: boolean;
}

export class MuxPortSession implements PortSession {
  private readonly smux: SmuxServer;
  private readonly streams = new Map<number, StreamState>();
  private disposed = false;
  /** The agent's reader is blocked on the smux receive buffer. */
  private blocking = false;
  /** smux's socket to transferDataToMgs, when paced (unpaced: frames go straight to the output). */
  private readonly pipe: MuxPipe | undefined;
  /** The pipe is full: destination copies wait (smux writes block). */
  private copiesPaused = false;

  constructor(
    private readonly ctx: PortContext,
    keepalive?: Omit<SmuxKeepalive, "onTimeout">,
  ) {
    const pipe = ctx.paced
      ? new MuxPipe({
          clock: ctx.clock,
          emit: (bytes) => ctx.output(bytes),
          isActive: ctx.isActive,
          onFull: () => this.pauseCopies(true),
          onRoom: () => this.pauseCopies(false),
        })
      : undefined;
    this.pipe = pipe;
    this.smux = new SmuxServer({
      onOpen: (id) => this.open(id),
      onData: (id, data) => this.toDestination(id, data),
      onRemoteClose: (id) => this.remoteClose(id),
      write: (bytes) => this.write(bytes),
      onProtocolError: (error) => ctx.onFatal(`smux protocol error: ${error.message}`),
    });
    if (keepalive) {
      this.smux.startKeepalive(
        {
          ...keepalive,
          onTimeout: () => ctx.onFatal("smux keepalive timeout: no frame from the client"),
        },
        ctx.clock,
      );
    }
  }

  /** smux bytes not yet read by the paced loop (0 unpaced). */
  get outputBacklog(): number {
    return this.pipe?.backlog ?? 0;
  }

  inbound(bytes: Uint8Array): Delivery {
    if (this.disposed || this.smux.isFailed) return "not-ready";
    this.ctx.stats.bytesIn += bytes.length;
    this.smux.push(bytes);
    if (!this.blocking && this.bufferedTowardDestinations() > SMUX_RECEIVE_BUFFER) {
      this.blocking = true;
      this.ctx.blockReader();
    }
    return "handled";
  }

  disconnect(): void {
    // DisconnectToPort is a basic-mode flag; in mux mode streams close with FIN.
  }

  dispose(): void {
    this.disposed = true;
    this.pipe?.stop();
    this.smux.dispose();
    for (const state of this.streams.values()) {
      state.reader?.stop();
      state.socket?.destroy();
    }
    this.streams.clear();
  }

  /** A destination drained or went away: unblock the reader once smux's buffer has room. */
  private maybeUnblock(): void {
    if (this.blocking && this.bufferedTowardDestinations() <= SMUX_RECEIVE_BUFFER) {
      this.blocking = false;
      this.ctx.unblockReader();
    }
  }

  /** Everything smux sends goes through the same socket, in order (paced, or straight out unpaced). */
  private write(bytes: Uint8Array): void {
    if (this.pipe) this.pipe.write(bytes);
    else this.ctx.output(bytes);
  }

  private pauseCopies(paused: boolean): void {
    this.copiesPaused = paused;
    for (const state of this.streams.values()) {
      if (paused) state.socket?.pause();
      else state.socket?.resume();
    }
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
    const state: StreamState = {
      socket: undefined,
      reader: undefined,
      connected: false,
      pending: [],
      remoteClosed: false,
    };
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
          // What waited for the dial counted toward smux's buffer: it may have been what blocked the
          // reader, and a socket that takes it all at once never emits 'drain'.
          this.maybeUnblock();
          if (state.remoteClosed) this.closeDestination(id, state);
        });
        if (this.copiesPaused) socket.pause();
        // io.Copy: read as fast as the destination gives (the pipe paces and pauses; unpaced: the CPU
        // switch). Paused publication stops the pipe's read loop, not the copy.
        state.reader = new DestinationReader(socket, {
          clock: ctx.clock,
          paced: false,
          isActive: this.pipe ? () => true : ctx.isActive,
          onRead: (bytes) => {
            if (this.streams.get(id) === state) this.smux.send(id, bytes);
          },
          onEnd: () => {
            // Destination EOF or error after connecting (and its last bytes sent): full close.
            if (state.connected && this.streams.get(id) === state) {
              this.streams.delete(id);
              this.smux.close(id);
            }
          },
        });
        socket.on("drain", () => this.maybeUnblock());
        socket.once("error", (error) => {
          if (!state.connected) this.dialFailed(id, error.message);
        });
        socket.once("close", () => this.maybeUnblock());
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
    this.maybeUnblock(); // its pending data no longer counts
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
      // end() flushes what the client sent before its FIN; destroy once that is written.
      socket.end(() => socket.destroy());
    }
    // smux.close is a no-op here when the FIN already removed the stream; the agent's close would FIN
    // back, so do that explicitly for a stream the client closed.
    this.write(encodeSmuxFrame(SmuxCmd.Fin, id));
  }
}
