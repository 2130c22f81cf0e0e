/**
 * Cuts the agent's outgoing tunnel bytes into output_stream_data payloads of at most 1024 bytes
 * (StreamDataPayloadSize, §7.5). Writes made in the same tick are coalesced first, so an smux frame
 * header and small frames share a message instead of each costing a 120-byte header and an ack.
 */
export const STREAM_DATA_PAYLOAD_SIZE = 1024;

export class OutputPump {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private scheduled = false;

  constructor(private readonly emit: (payload: Uint8Array) => void) {}

  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    // A full payload's worth goes out now, so the sender's window check right after a write is exact.
    if (this.queued >= STREAM_DATA_PAYLOAD_SIZE) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Emits everything queued now (callers flush before sending a flag so the order is kept). */
  flush(): void {
    if (this.queued === 0) return;
    const all =
      this.queue.length === 1 ? (this.queue[0] as Uint8Array) : Buffer.concat(this.queue, this.queued);
    this.queue = [];
    this.queued = 0;
    for (let offset = 0; offset < all.length; offset += STREAM_DATA_PAYLOAD_SIZE) {
      this.emit(all.subarray(offset, offset + STREAM_DATA_PAYLOAD_SIZE));
    }
  }

  discard(): void {
    this.queue = [];
    this.queued = 0;
  }
}
