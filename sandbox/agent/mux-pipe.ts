/**
 * The connection between the agent's smux server and its data channel in mux mode (amazon-ssm-agent
 * agent/session/plugins/port/port_mux.go): smux writes its frames into a local Unix socket, and
 * transferDataToMgs reads that socket in StreamDataPayloadSize (1024-byte) reads, sending each read as one
 * output_stream_data message and sleeping 1 ms after it. So the pacing applies to the smux byte stream,
 * frame headers included: a message carries up to 1024 stream bytes, whatever the frame boundaries, and a
 * 32 KiB frame (io.Copy's buffer, smux's MaxFrameSize) costs 8 header bytes, not a message of its own.
 *
 * While the socket holds more than its buffer, smux's writes block, and with them io.Copy from every
 * destination: `onFull`/`onRoom` let the mux session pause and resume destination reads.
 */
import type { Clock } from "../../tunnel/clock.ts";

/** StreamDataPayloadSize: bytes per read of the smux socket. */
export const PIPE_READ_SIZE = 1024;
/** About what a local stream socket buffers before its writer blocks. */
export const PIPE_BUFFER = 256 * 1024;

export interface MuxPipeOptions {
  readonly clock: Clock;
  /** One read's bytes (≤ 1024): one output_stream_data message. */
  readonly emit: (bytes: Uint8Array) => void;
  /** datachannel.go IsActive: false while publication is paused; the loop skips reading then. */
  readonly isActive: () => boolean;
  /** More than PIPE_BUFFER bytes are waiting: writers (destination copies) must stop. */
  readonly onFull: () => void;
  /** Back under half the buffer after onFull. */
  readonly onRoom: () => void;
}

export class MuxPipe {
  private queue: Uint8Array[] = [];
  private head = 0;
  private queued = 0;
  private sleeping = false;
  private full = false;
  private cancelSleep: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly opts: MuxPipeOptions) {}

  /** Bytes written by smux and not read yet. */
  get backlog(): number {
    return this.queued;
  }

  write(bytes: Uint8Array): void {
    if (this.stopped || bytes.length === 0) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (!this.full && this.queued > PIPE_BUFFER) {
      this.full = true;
      this.opts.onFull();
    }
    // A read blocked on an empty socket returns as soon as bytes arrive.
    if (!this.sleeping) this.readOnce();
  }

  stop(): void {
    this.stopped = true;
    this.cancelSleep?.();
    this.queue = [];
    this.head = 0;
    this.queued = 0;
  }

  /** One read of up to 1024 available bytes, sent as one message, then the 1 ms sleep. */
  private readOnce(): void {
    if (this.stopped) return;
    if (!this.opts.isActive()) {
      if (this.queued > 0) this.sleep(); // checks again after the sleep
      return;
    }
    if (this.queued === 0) return; // the read blocks until smux writes
    this.opts.emit(this.take(Math.min(PIPE_READ_SIZE, this.queued)));
    if (this.full && this.queued <= PIPE_BUFFER / 2) {
      this.full = false;
      this.opts.onRoom();
    }
    this.sleep();
  }

  private sleep(): void {
    this.sleeping = true;
    this.cancelSleep = this.opts.clock.after(1, () => {
      this.sleeping = false;
      this.cancelSleep = undefined;
      this.readOnce();
    });
  }

  private take(n: number): Uint8Array {
    const first = this.queue[this.head] as Uint8Array;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.head++;
      else this.queue[this.head] = first.subarray(n);
    } else {
      out = new Uint8Array(n);
      let filled = 0;
      while (filled < n) {
        const chunk = this.queue[this.head] as Uint8Array;
        const part = Math.min(chunk.length, n - filled);
        out.set(part === chunk.length ? chunk : chunk.subarray(0, part), filled);
        filled += part;
        if (part === chunk.length) this.head++;
        else this.queue[this.head] = chunk.subarray(part);
      }
    }
    this.queued -= n;
    if (this.head > 1024 || this.head === this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
