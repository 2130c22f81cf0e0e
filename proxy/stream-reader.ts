/**
 * Reads exact byte counts from a stream during a login handshake, then hands the stream over for relaying
 * with whatever was read ahead. Nothing is lost between the two: `detach()` returns the unread bytes and
 * leaves the stream paused.
 */
import type { Duplex } from "node:stream";

export class StreamReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: (() => void) | undefined;
  private ended = false;
  private failure: Error | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.wake();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.wake();
  };
  private readonly onError = (error: Error) => {
    this.failure = error;
    this.wake();
  };

  constructor(private readonly stream: Duplex) {
    stream.on("data", this.onData);
    stream.on("end", this.onEnd);
    stream.on("close", this.onEnd);
    stream.on("error", this.onError);
  }

  /** Resolves with exactly `n` bytes; rejects with EndOfStream if the peer closes first. */
  async read(n: number): Promise<Buffer> {
    while (this.buffered < n) {
      if (this.failure) throw this.failure;
      if (this.ended) throw new EndOfStream(this.buffered);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  /** Int32 length (counting itself) then the body: for startup packets. */
  async readLengthPrefixed(max: number): Promise<Buffer> {
    const length = (await this.read(4)).readInt32BE(0);
    if (length < 4 || length > max) throw new ProtocolViolation(`packet length ${length} out of range`);
    return this.read(length - 4);
  }

  /** A typed message: Byte1 type, Int32 length, body. */
  async readMessage(max: number): Promise<{ type: string; body: Buffer; raw: Buffer }> {
    const header = await this.read(5);
    const length = header.readInt32BE(1);
    if (length < 4 || length > max) throw new ProtocolViolation(`message length ${length} out of range`);
    const body = await this.read(length - 4);
    return { type: String.fromCharCode(header[0] ?? 0), body, raw: Buffer.concat([header, body]) };
  }

  /** A MySQL packet: 3-byte little-endian payload length, sequence id, payload. */
  async readMysqlPacket(max: number): Promise<{ sequence: number; payload: Buffer }> {
    const header = await this.read(4);
    const length = header.readUIntLE(0, 3);
    if (length > max) throw new ProtocolViolation(`packet length ${length} out of range`);
    return { sequence: header[3] ?? 0, payload: await this.read(length) };
  }

  /** Stops reading; returns the bytes read ahead. The stream is left paused with no data listener. */
  detach(): Buffer {
    this.stream.off("data", this.onData);
    this.stream.off("end", this.onEnd);
    this.stream.off("close", this.onEnd);
    this.stream.off("error", this.onError);
    this.stream.pause();
    const rest = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    return rest;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

/** The peer closed before sending what the protocol requires. */
export class EndOfStream extends Error {
  override readonly name = "EndOfStream";
  constructor(readonly bytesBuffered: number) {
    super("connection closed by the peer");
  }
}

/** The peer sent something no conforming client or server sends. */
export class ProtocolViolation extends Error {
  override readonly name = "ProtocolViolation";
}
