/**
 * smux (xtaci/smux) frames as Session Manager uses them: protocol version 1, 8-byte little-endian header
 * (ssm-session-protocol.md §11.1). Frames are NOT aligned with data-channel messages, so the decoder is a
 * streaming parser over the concatenated in-order payload bytes.
 */

export const SMUX_VERSION = 1;
export const SMUX_HEADER_LENGTH = 8;
/** Largest data length a frame header can express; writers use MAX_FRAME_DATA. */
export const SMUX_MAX_LENGTH = 0xffff;
/** xtaci/smux default MaxFrameSize: writers split application writes into frames of at most this. */
export const MAX_FRAME_DATA = 32768;

export const SmuxCmd = { Syn: 0, Fin: 1, Psh: 2, Nop: 3, Upd: 4 } as const;
export type SmuxCmd = (typeof SmuxCmd)[keyof typeof SmuxCmd];

export interface SmuxFrame {
  readonly cmd: SmuxCmd;
  readonly streamId: number;
  /** PSH: stream bytes; UPD: 8 bytes; otherwise empty. */
  readonly data: Uint8Array;
}

export class SmuxProtocolError extends Error {
  override readonly name = "SmuxProtocolError";
}

/** Encodes one frame. SYN/FIN/NOP always carry length 0 (receivers read no data for them). */
export function encodeSmuxFrame(
  cmd: SmuxCmd,
  streamId: number,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (data.length > SMUX_MAX_LENGTH)
    throw new RangeError(`smux frame data of ${data.length} bytes exceeds 65535`);
  const out = new Uint8Array(SMUX_HEADER_LENGTH + data.length);
  const view = new DataView(out.buffer);
  out[0] = SMUX_VERSION;
  out[1] = cmd;
  view.setUint16(2, data.length, true);
  view.setUint32(4, streamId >>> 0, true);
  out.set(data, SMUX_HEADER_LENGTH);
  return out;
}

/**
 * Incremental decoder: push arbitrary chunks, get whole frames back. Keeps at most one partial frame
 * (≤ 8 + 65535 bytes) buffered, so memory stays bounded whatever the peer sends.
 */
export class SmuxFrameDecoder {
  /**
   * Bytes not yet consumed, as a list of chunks. A 32 KiB frame arrives in ~32 data-channel payloads;
   * keeping the chunks (instead of concatenating on every push) makes that linear instead of quadratic.
   */
  private chunks: Uint8Array[] = [];
  private total = 0;
  private failed: SmuxProtocolError | undefined;

  constructor(private readonly version: number = SMUX_VERSION) {}

  /** Number of bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.total;
  }

  /** Feeds bytes; returns every frame completed by them. Throws SmuxProtocolError, after which the session is unusable. */
  push(chunk: Uint8Array): SmuxFrame[] {
    if (this.failed) throw this.failed;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.total += chunk.length;
    }
    const frames: SmuxFrame[] = [];
    const header = new Uint8Array(SMUX_HEADER_LENGTH);
    while (this.total >= SMUX_HEADER_LENGTH) {
      this.peek(header, SMUX_HEADER_LENGTH);
      const version = header[0];
      const cmd = header[1] as number;
      if (version !== this.version) {
        this.failed = new SmuxProtocolError(`smux version ${version}, expected ${this.version}`);
        throw this.failed;
      }
      if (cmd > SmuxCmd.Upd || (cmd === SmuxCmd.Upd && this.version < 2)) {
        this.failed = new SmuxProtocolError(`unknown smux command ${cmd}`);
        throw this.failed;
      }
      const view = new DataView(header.buffer);
      const length = view.getUint16(2, true);
      const streamId = view.getUint32(4, true);
      // Receiver rules (§11.1): SYN/FIN/NOP read no data whatever the length says; UPD reads exactly 8.
      const dataLength = cmd === SmuxCmd.Psh ? length : cmd === SmuxCmd.Upd ? 8 : 0;
      if (this.total < SMUX_HEADER_LENGTH + dataLength) break;
      this.skip(SMUX_HEADER_LENGTH);
      // A fresh copy, so callers may keep it after the pushed chunk's buffer is reused.
      const data = new Uint8Array(dataLength);
      if (dataLength > 0) this.take(data);
      frames.push({ cmd: cmd as SmuxCmd, streamId, data });
    }
    // Whatever is left of this call's chunk is copied: the caller may reuse its buffer after we return.
    const last = this.chunks.length - 1;
    const tail = this.chunks[last];
    if (tail && tail.buffer === chunk.buffer) this.chunks[last] = tail.slice();
    return frames;
  }

  /** Copies the first out.length buffered bytes into `out` without consuming them. */
  private peek(out: Uint8Array, n: number): void {
    let filled = 0;
    for (const chunk of this.chunks) {
      const part = Math.min(n - filled, chunk.length);
      out.set(part === chunk.length ? chunk : chunk.subarray(0, part), filled);
      filled += part;
      if (filled === n) return;
    }
  }

  private skip(n: number): void {
    this.consume(n, undefined);
  }

  private take(out: Uint8Array): void {
    this.consume(out.length, out);
  }

  private consume(n: number, out: Uint8Array | undefined): void {
    let done = 0;
    let drop = 0;
    for (const chunk of this.chunks) {
      const part = Math.min(n - done, chunk.length);
      if (out) out.set(part === chunk.length ? chunk : chunk.subarray(0, part), done);
      done += part;
      if (part === chunk.length) {
        drop++;
      } else {
        // Keep only a view of the rest: the caller's chunk is not copied.
        this.chunks[drop] = chunk.subarray(part);
        break;
      }
      if (done === n) break;
    }
    if (drop > 0) this.chunks.splice(0, drop);
    this.total -= n;
  }
}
