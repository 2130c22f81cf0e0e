/**
 * Reads a destination socket the way the agent's port plugin does (amazon-ssm-agent
 * agent/session/plugins/port/port_mux.go and port_basic.go, WritePump / handleDataTransfer): one read of
 * at most StreamDataPayloadSize (1024 bytes, agent/session/config/config.go), handed to the data channel,
 * then a 1 ms sleep, forever. The agent never pauses this loop for unacked output; it is what caps a
 * real session's download near 0.6-1 MB/s.
 *
 * Node delivers socket data in large chunks, so the reader queues them (pausing the socket above a
 * kernel-buffer-sized backlog, as TCP flow control would) and releases one ≤ 1024-byte "read" per clock
 * tick. `paced: false` hands chunks on as they arrive: the switch for measuring a client's own CPU cost.
 * The destination's EOF is reported only after every byte read before it has been handed on.
 */
import type { Socket } from "node:net";
import type { Clock } from "../../tunnel/clock.ts";

/** StreamDataPayloadSize: bytes per destination read. */
export const AGENT_READ_SIZE = 1024;
/** The sleep after each read (time.Millisecond in WritePump). */
export const AGENT_READ_SLEEP_MS = 1;
/** Bytes queued from the socket before it is paused: about what a kernel socket buffer holds. */
const BACKLOG_HIGH = 256 * 1024;

export interface DestinationReaderOptions {
  readonly clock: Clock;
  /** @default true */
  readonly paced?: boolean;
  /** One read's worth of bytes (≤ 1024 when paced). */
  readonly onRead: (bytes: Uint8Array) => void;
  /** The destination closed and everything before the close was handed on. */
  readonly onEnd: () => void;
  /**
   * The data channel is not paused (datachannel.go IsActive: false between pause_publication and
   * start_publication, which MGS sends while the client has no WebSocket). The read loop skips reading
   * while it is false, sleeping 1 ms per check. @default always active
   */
  readonly isActive?: () => boolean;
}

export class DestinationReader {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private socketPaused = false;
  private sleeping = false;
  private cancelSleep: (() => void) | undefined;
  private ended = false;
  private finished = false;
  private stopped = false;
  /** Reads handed on (for the pacing test). */
  reads = 0;

  constructor(
    private readonly socket: Socket,
    private readonly opts: DestinationReaderOptions,
  ) {
    socket.on("data", (chunk: Buffer) => this.onChunk(chunk));
    socket.once("close", () => {
      this.ended = true;
      this.maybeFinish();
    });
  }

  /** Bytes read from the socket but not handed on yet. */
  get backlog(): number {
    return this.queued;
  }

  /**
   * Hands on what one read in progress would still deliver (at most one read's worth), as the agent's
   * read loop does with the packet it already holds when its connection is closed underneath it.
   */
  flushOneRead(): void {
    if (this.queued > 0 && !this.stopped) this.readOnce();
  }

  /** Stops reading; nothing more is handed on. */
  stop(): void {
    this.stopped = true;
    this.cancelSleep?.();
    this.queue.length = 0;
    this.queued = 0;
  }

  private onChunk(chunk: Buffer): void {
    if (this.stopped) return;
    if (this.opts.paced === false && this.queued === 0 && this.active()) {
      this.reads++;
      this.opts.onRead(chunk);
      return;
    }
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= BACKLOG_HIGH && !this.socketPaused) {
      this.socketPaused = true;
      this.socket.pause();
    }
    if (!this.sleeping) this.readOnce();
  }

  private active(): boolean {
    return this.opts.isActive?.() ?? true;
  }

  /** One read: up to 1024 bytes of what is available (all of it when unpaced), then the 1 ms sleep. */
  private readOnce(): void {
    const first = this.queue[0];
    if (!first || this.stopped) return;
    if (!this.active()) {
      this.sleep(); // paused: no read, check again after the sleep
      return;
    }
    if (this.opts.paced === false) {
      const all = this.queue.splice(0);
      this.queued = 0;
      if (this.socketPaused) {
        this.socketPaused = false;
        this.socket.resume();
      }
      for (const chunk of all) {
        this.reads++;
        this.opts.onRead(chunk);
      }
      this.maybeFinish();
      return;
    }
    let bytes: Uint8Array;
    if (first.length <= AGENT_READ_SIZE && this.queue.length === 1) {
      bytes = first;
      this.queue.shift();
    } else if (first.length >= AGENT_READ_SIZE) {
      bytes = first.subarray(0, AGENT_READ_SIZE);
      if (first.length === AGENT_READ_SIZE) this.queue.shift();
      else this.queue[0] = first.subarray(AGENT_READ_SIZE);
    } else {
      // Several small chunks are available: one read returns them together, up to 1024 bytes.
      const out = Buffer.allocUnsafe(Math.min(AGENT_READ_SIZE, this.queued));
      let filled = 0;
      while (filled < out.length) {
        const head = this.queue[0] as Uint8Array;
        const take = Math.min(head.length, out.length - filled);
        out.set(head.subarray(0, take), filled);
        filled += take;
        if (take === head.length) this.queue.shift();
        else this.queue[0] = head.subarray(take);
      }
      bytes = out;
    }
    this.queued -= bytes.length;
    this.reads++;
    if (this.socketPaused && this.queued < BACKLOG_HIGH / 2) {
      this.socketPaused = false;
      this.socket.resume();
    }
    this.opts.onRead(bytes);
    this.sleep();
  }

  private sleep(): void {
    this.sleeping = true;
    this.cancelSleep = this.opts.clock.after(AGENT_READ_SLEEP_MS, () => {
      this.sleeping = false;
      this.cancelSleep = undefined;
      if (this.queued > 0) this.readOnce();
      else this.maybeFinish();
    });
  }

  private maybeFinish(): void {
    if (!this.ended || this.finished || this.stopped) return;
    if (this.queued > 0 || this.sleeping) return; // the rest is handed on first
    this.finished = true;
    this.opts.onEnd();
  }
}
