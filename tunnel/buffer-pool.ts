/**
 * A bounded free list of equally sized ArrayBuffers, for the hot path's short-lived buffers (encoded
 * messages, WebSocket writes). Bun's collector frees such buffers late: at tens of MB/s the garbage, not
 * what is live, sets the peak RSS. A buffer comes back with give() only when nobody uses it any more
 * (the caller's rule); a request bigger than the pool's size gets a one-off buffer that is never kept.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  /**
   * @param maxBuffers buffers kept at most (more given back are left to the collector)
   * @param bufferBytes size of every pooled buffer
   */
  constructor(
    readonly maxBuffers: number,
    readonly bufferBytes: number,
  ) {}

  /** Buffers waiting to be reused. */
  get size(): number {
    return this.free.length;
  }

  /** A buffer of at least `bytes` bytes: a pooled one when it fits, else a new one of exactly `bytes`. */
  take(bytes: number): ArrayBuffer {
    if (bytes > this.bufferBytes) return new ArrayBuffer(bytes);
    return this.free.pop() ?? new ArrayBuffer(this.bufferBytes);
  }

  /** Hands back a buffer nobody reads or writes any more; only the pool's own size is kept. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength !== this.bufferBytes || this.free.length >= this.maxBuffers) return;
    this.free.push(buffer);
  }
}
