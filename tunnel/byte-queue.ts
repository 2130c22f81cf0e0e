/**
 * FIFO of byte chunks that hands out payloads of at most N bytes without copying when a chunk is big
 * enough (the common bulk case), and with one copy when small chunks must be coalesced.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private offset = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.total += bytes.length;
  }

  /** Removes and returns up to `max` bytes (empty when the queue is empty). */
  take(max: number): Uint8Array {
    const first = this.chunks[this.head];
    if (!first) return new Uint8Array(0);
    const available = first.length - this.offset;
    if (available >= max || this.head === this.chunks.length - 1) {
      const n = Math.min(max, available);
      const out = first.subarray(this.offset, this.offset + n);
      this.consume(n);
      return out;
    }
    const size = Math.min(max, this.total);
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[this.head] as Uint8Array;
      const n = Math.min(size - filled, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + n), filled);
      filled += n;
      this.consume(n);
    }
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.offset = 0;
    this.total = 0;
  }

  private consume(n: number): void {
    this.total -= n;
    this.offset += n;
    const chunk = this.chunks[this.head];
    if (chunk && this.offset >= chunk.length) {
      this.head++;
      this.offset = 0;
      // Compact now and then so the array does not grow without bound.
      if (this.head > 1024) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
    }
  }
}
