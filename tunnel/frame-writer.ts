/**
 * The WebSocket client's outgoing side: each frame is masked into a pooled buffer as it is queued, and the
 * socket gets one write at a time, the next once the previous one has been handed to the kernel. Frames
 * queued meanwhile fill the current buffer, so a burst still leaves in a few large writes.
 *
 * Why one write at a time: a write made while another is pending waits in the socket's stream queue, and
 * Bun's net.Socket joins queued writes with Buffer.concat before writing them: the whole backlog was copied
 * once more into a new buffer for the collector (measured: the tunnel process's peak RSS during uploads).
 * Why copy at queue time: the caller's bytes are only borrowed during queue(); a message buffer may go back
 * to its pool (acked) and carry another message before a delayed write would have read it.
 */
import type { Socket } from "node:net";
import { BufferPool } from "./buffer-pool.ts";
import { frameHeaderBytes, writeClientFrame } from "./websocket-frame.ts";

/**
 * Write buffers kept for reuse. 8 × 256 KiB covers the data channel's send window (2 MiB of payload) plus
 * headers. Only a frame bigger than a buffer gets a one-off one.
 */
const WRITE_POOL_BUFFERS = 8;
export const WRITE_BUFFER_BYTES = 256 * 1024;

interface WriteBuffer {
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  length: number;
}

export class FrameWriter {
  /** Filled buffers not yet handed to the socket; the last one still takes frames. */
  private readonly pending: WriteBuffer[] = [];
  private readonly pool = new BufferPool(WRITE_POOL_BUFFERS, WRITE_BUFFER_BYTES);
  private pendingBytes = 0;
  private writing = false;
  private flushScheduled = false;
  private endWhenFlushed = false;

  /** @param onProgress called after frames were queued or a write finished (the backlog changed) */
  constructor(
    private readonly socket: Socket,
    private readonly onProgress: () => void,
  ) {}

  /** Bytes queued and not yet handed to the socket. */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** Encodes one masked frame now; it is written after this turn of the event loop, in order. */
  queue(opcode: number, payload: Uint8Array): void {
    const size = frameHeaderBytes(payload.length) + payload.length;
    let last = this.pending[this.pending.length - 1];
    if (last === undefined || last.length + size > last.buffer.byteLength) {
      last = this.take(size);
      this.pending.push(last);
    }
    last.length = writeClientFrame(last.bytes, last.words, last.length, opcode, payload);
    this.pendingBytes += size;
    if (!this.flushScheduled && !this.writing) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
    this.onProgress();
  }

  /** Ends the socket once everything queued so far has been written (the closing handshake). */
  endAfterFlush(): void {
    this.endWhenFlushed = true;
    if (!this.writing && !this.flushScheduled) this.flush();
  }

  private take(size: number): WriteBuffer {
    // The masking loop writes whole words: a buffer's length is a multiple of 4.
    const buffer = this.pool.take((Math.max(size, WRITE_BUFFER_BYTES) + 3) & ~3);
    return { buffer, bytes: new Uint8Array(buffer), words: new Uint32Array(buffer), length: 0 };
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.writing) return;
    if (this.socket.destroyed) {
      for (const written of this.pending.splice(0)) this.pool.give(written.buffer);
      this.pendingBytes = 0;
      return;
    }
    const next = this.pending.shift();
    if (next === undefined) {
      if (this.endWhenFlushed) this.socket.end();
      return;
    }
    this.writing = true;
    this.pendingBytes -= next.length;
    this.socket.write(new Uint8Array(next.buffer, 0, next.length), () => {
      this.pool.give(next.buffer);
      this.writing = false;
      this.flush();
      this.onProgress();
    });
  }
}
