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
 * Incremental decoder: push arbitrary chunks, get whole frames back. A streaming state machine: the 8-byte
 * header is gathered (it may straddle chunks), then the frame's data is copied once, straight from the
 * pushed chunks into the frame's own buffer. Nothing of a pushed chunk is kept after push() returns (the
 * caller may reuse it), and at most one partial frame (≤ 8 + 65535 bytes) is held, whatever the peer sends.
 * This runs once per data-channel message (~1 000 per MB): no per-call allocation unless a frame completes.
 */
export class SmuxFrameDecoder {
  private readonly header = new Uint8Array(SMUX_HEADER_LENGTH);
  private readonly headerView = new DataView(this.header.buffer);
  private headerFilled = 0;
  /** The frame being filled once its header is complete (undefined while reading a header). */
  private frame: { cmd: SmuxCmd; streamId: number; data: Uint8Array } | undefined;
  private dataFilled = 0;
  private failed: SmuxProtocolError | undefined;

  constructor(private readonly version: number = SMUX_VERSION) {}

  /** Number of bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.frame ? SMUX_HEADER_LENGTH + this.dataFilled : this.headerFilled;
  }

  /** Feeds bytes; returns every frame completed by them. Throws SmuxProtocolError, after which the session is unusable. */
  push(chunk: Uint8Array): SmuxFrame[] {
    if (this.failed) throw this.failed;
    let frames: SmuxFrame[] = NO_FRAMES;
    let offset = 0;
    for (;;) {
      let frame = this.frame;
      if (!frame) {
        const need = SMUX_HEADER_LENGTH - this.headerFilled;
        if (chunk.length - offset < need) {
          this.header.set(chunk.subarray(offset), this.headerFilled);
          this.headerFilled += chunk.length - offset;
          return frames;
        }
        this.header.set(chunk.subarray(offset, offset + need), this.headerFilled);
        offset += need;
        this.headerFilled = 0;
        frame = this.startFrame();
      }
      const data = frame.data;
      const n = Math.min(data.length - this.dataFilled, chunk.length - offset);
      if (n > 0) {
        data.set(n === chunk.length ? chunk : chunk.subarray(offset, offset + n), this.dataFilled);
        this.dataFilled += n;
        offset += n;
      }
      if (this.dataFilled < data.length) return frames;
      this.frame = undefined;
      this.dataFilled = 0;
      if (frames === NO_FRAMES) frames = [];
      frames.push(frame);
      if (offset === chunk.length && this.headerFilled === 0) return frames;
    }
  }

  /** Validates the gathered header and starts the frame it announces. */
  private startFrame(): { cmd: SmuxCmd; streamId: number; data: Uint8Array } {
    const version = this.header[0];
    const cmd = this.header[1] as number;
    if (version !== this.version) {
      this.failed = new SmuxProtocolError(`smux version ${version}, expected ${this.version}`);
      throw this.failed;
    }
    if (cmd > SmuxCmd.Upd || (cmd === SmuxCmd.Upd && this.version < 2)) {
      this.failed = new SmuxProtocolError(`unknown smux command ${cmd}`);
      throw this.failed;
    }
    const length = this.headerView.getUint16(2, true);
    const streamId = this.headerView.getUint32(4, true);
    // Receiver rules (§11.1): SYN/FIN/NOP read no data whatever the length says; UPD reads exactly 8.
    const dataLength = cmd === SmuxCmd.Psh ? length : cmd === SmuxCmd.Upd ? 8 : 0;
    const frame = {
      cmd: cmd as SmuxCmd,
      streamId,
      data: dataLength > 0 ? new Uint8Array(dataLength) : EMPTY,
    };
    this.frame = frame;
    this.dataFilled = 0;
    return frame;
  }
}

const EMPTY = new Uint8Array(0);
/** Returned when a push completes no frame (callers only iterate it). */
const NO_FRAMES: SmuxFrame[] = [];
