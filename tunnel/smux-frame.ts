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
  private pending: Uint8Array = new Uint8Array(0);
  private failed: SmuxProtocolError | undefined;

  constructor(private readonly version: number = SMUX_VERSION) {}

  /** Number of bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** Feeds bytes; returns every frame completed by them. Throws SmuxProtocolError, after which the session is unusable. */
  push(chunk: Uint8Array): SmuxFrame[] {
    if (this.failed) throw this.failed;
    let buf: Uint8Array;
    if (this.pending.length === 0) {
      buf = chunk;
    } else {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
    }
    const frames: SmuxFrame[] = [];
    let offset = 0;
    while (buf.length - offset >= SMUX_HEADER_LENGTH) {
      const version = buf[offset];
      const cmd = buf[offset + 1] as number;
      if (version !== this.version) {
        this.failed = new SmuxProtocolError(`smux version ${version}, expected ${this.version}`);
        throw this.failed;
      }
      if (cmd > SmuxCmd.Upd || (cmd === SmuxCmd.Upd && this.version < 2)) {
        this.failed = new SmuxProtocolError(`unknown smux command ${cmd}`);
        throw this.failed;
      }
      const view = new DataView(buf.buffer, buf.byteOffset + offset, SMUX_HEADER_LENGTH);
      const length = view.getUint16(2, true);
      const streamId = view.getUint32(4, true);
      // Receiver rules (§11.1): SYN/FIN/NOP read no data whatever the length says; UPD reads exactly 8.
      const dataLength = cmd === SmuxCmd.Psh ? length : cmd === SmuxCmd.Upd ? 8 : 0;
      if (buf.length - offset < SMUX_HEADER_LENGTH + dataLength) break;
      const start = offset + SMUX_HEADER_LENGTH;
      // Copy PSH data out so callers may keep it after the chunk's buffer is reused.
      const data = dataLength === 0 ? new Uint8Array(0) : buf.slice(start, start + dataLength);
      frames.push({ cmd: cmd as SmuxCmd, streamId, data });
      offset = start + dataLength;
    }
    this.pending = offset === buf.length ? new Uint8Array(0) : buf.slice(offset);
    return frames;
  }
}
