/**
 * smux v1 CLIENT session over the data channel's in-order byte stream (ssm-session-protocol.md §10.3,
 * §11). Only the client opens streams (ids 3, 5, 7, …). Frames are parsed with the streaming decoder
 * because they are not aligned with data-channel messages. There is no per-stream flow control in v1;
 * back-pressure is applied one level down, on the data channel.
 */
import {
  MAX_FRAME_DATA,
  SMUX_HEADER_LENGTH,
  SMUX_VERSION,
  SmuxCmd,
  SmuxFrameDecoder,
  SmuxProtocolError,
} from "./smux-frame.ts";

/** smux KeepAliveInterval: NOPs are sent this often when keepalive is on. */
export const SMUX_KEEPALIVE_INTERVAL_MS = 10_000;

export interface SmuxStreamHandler {
  /** PSH data for the stream, in order. */
  onData(data: Uint8Array): void;
  /** The peer sent FIN: no more data will come. The stream is already removed from the session. */
  onFin(): void;
}

export interface SmuxClientOptions {
  /** Sends session bytes (frame headers and data, possibly as separate calls) towards the agent. */
  readonly output: (bytes: Uint8Array) => void;
  /** Send a NOP every this many ms; 0 = keepalive off. @default 0 */
  readonly keepaliveMs?: number;
}

export class SmuxClientSession {
  private readonly decoder = new SmuxFrameDecoder(SMUX_VERSION);
  private readonly streams = new Map<number, SmuxStreamHandler>();
  private nextId = 1;
  private keepalive: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(private readonly options: SmuxClientOptions) {
    const interval = options.keepaliveMs ?? 0;
    if (interval > 0) {
      this.keepalive = setInterval(() => this.sendHeader(SmuxCmd.Nop, 0, 0), interval);
      this.keepalive.unref?.();
    }
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Opens a stream: SYN goes out first, then the stream is registered (as smux does). */
  openStream(handler: SmuxStreamHandler): number {
    if (this.closed) throw new SmuxProtocolError("smux session is closed");
    const id = this.nextId + 2;
    if (id > 0xffffffff) throw new SmuxProtocolError("smux stream ids exhausted; open a new session");
    this.nextId = id;
    this.sendHeader(SmuxCmd.Syn, id, 0);
    this.streams.set(id, handler);
    return id;
  }

  /** Writes stream data as PSH frames of at most MAX_FRAME_DATA bytes. */
  write(streamId: number, data: Uint8Array): void {
    if (this.closed || !this.streams.has(streamId)) return;
    for (let offset = 0; offset < data.length; offset += MAX_FRAME_DATA) {
      const part = data.subarray(offset, Math.min(data.length, offset + MAX_FRAME_DATA));
      this.sendHeader(SmuxCmd.Psh, streamId, part.length);
      this.options.output(part);
    }
  }

  /** Local close: FIN, and forget the stream at once (later frames for it are discarded). */
  closeStream(streamId: number): void {
    if (!this.streams.delete(streamId) || this.closed) return;
    this.sendHeader(SmuxCmd.Fin, streamId, 0);
  }

  /**
   * Feeds in-order bytes from the agent. Throws SmuxProtocolError when the byte stream is not smux v1;
   * the session is unusable afterwards (the caller ends the tunnel).
   */
  push(bytes: Uint8Array): void {
    for (const frame of this.decoder.push(bytes)) {
      if (frame.cmd === SmuxCmd.Psh) {
        if (frame.data.length > 0) this.streams.get(frame.streamId)?.onData(frame.data);
      } else if (frame.cmd === SmuxCmd.Fin) {
        const handler = this.streams.get(frame.streamId);
        if (handler) {
          // Full close (§10.3): the stream is done both ways; answer with our FIN as smux's Close does.
          this.streams.delete(frame.streamId);
          handler.onFin();
          if (!this.closed) this.sendHeader(SmuxCmd.Fin, frame.streamId, 0);
        }
      }
      // SYN from the agent (never happens in SSM) and NOP need no action.
    }
  }

  /** Ends the session: no frames are sent (smux just drops the connection), keepalive stops. */
  close(): void {
    this.closed = true;
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = undefined;
    this.streams.clear();
  }

  private sendHeader(cmd: SmuxCmd, streamId: number, length: number): void {
    const header = new Uint8Array(SMUX_HEADER_LENGTH);
    const view = new DataView(header.buffer);
    header[0] = SMUX_VERSION;
    header[1] = cmd;
    view.setUint16(2, length, true);
    view.setUint32(4, streamId >>> 0, true);
    this.options.output(header);
  }
}
