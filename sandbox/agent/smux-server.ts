/**
 * smux v1 server session as the agent runs it over the data-channel byte stream (ssm-session-protocol.md
 * §11): the client opens streams (SYN), both sides PSH data and FIN their half; NOP is keepalive. Only the
 * frame codec is shared with the client (tunnel/smux-frame.ts); the session logic here is the agent's own.
 */
import type { Clock } from "../../tunnel/clock.ts";
import {
  encodeSmuxFrame,
  MAX_FRAME_DATA,
  SmuxCmd,
  SmuxFrameDecoder,
  type SmuxProtocolError,
} from "../../tunnel/smux-frame.ts";

export interface SmuxServerHandlers {
  /** The client opened a stream (a SYN for a new id). */
  readonly onOpen: (streamId: number) => void;
  /** PSH data for an open stream. */
  readonly onData: (streamId: number, data: Uint8Array) => void;
  /** The client FINed the stream; it is already removed from the session. */
  readonly onRemoteClose: (streamId: number) => void;
  /** Bytes for the client, in order (they become output_stream_data payloads). */
  readonly write: (bytes: Uint8Array) => void;
  /** Bad version / unknown command: the session is unusable from now on. */
  readonly onProtocolError: (error: SmuxProtocolError) => void;
}

export interface SmuxKeepalive {
  /** NOP every this many ms. @default 10 000 (smux KeepAliveInterval) */
  readonly intervalMs: number;
  /** Close when no frame arrived within a whole check period of this length. @default 30 000 */
  readonly timeoutMs: number;
  readonly onTimeout: () => void;
}

export class SmuxServer {
  private readonly decoder = new SmuxFrameDecoder();
  private readonly streams = new Set<number>();
  private frameSeen = false;
  private failed = false;
  private timers: (() => void)[] = [];

  constructor(private readonly handlers: SmuxServerHandlers) {}

  get openStreams(): number {
    return this.streams.size;
  }

  get isFailed(): boolean {
    return this.failed;
  }

  /**
   * smux keepalive (§11.6): a NOP every interval; every timeout period, if no frame header arrived since
   * the previous check, the session is closed — so a silent client is cut off 30-60 s after its last frame.
   */
  startKeepalive(keepalive: SmuxKeepalive, clock: Clock): void {
    this.timers.push(
      clock.every(keepalive.intervalMs, () => this.handlers.write(encodeSmuxFrame(SmuxCmd.Nop, 0))),
      clock.every(keepalive.timeoutMs, () => {
        if (!this.frameSeen) keepalive.onTimeout();
        this.frameSeen = false;
      }),
    );
  }

  /** Feeds in-order client bytes (frames may be split or merged arbitrarily). */
  push(bytes: Uint8Array): void {
    if (this.failed) return;
    let frames: ReturnType<SmuxFrameDecoder["push"]>;
    try {
      frames = this.decoder.push(bytes);
    } catch (error) {
      this.failed = true;
      this.handlers.onProtocolError(error as SmuxProtocolError);
      return;
    }
    for (const frame of frames) {
      this.frameSeen = true;
      switch (frame.cmd) {
        case SmuxCmd.Syn:
          // A SYN for an existing id is ignored (§11.3).
          if (!this.streams.has(frame.streamId)) {
            this.streams.add(frame.streamId);
            this.handlers.onOpen(frame.streamId);
          }
          break;
        case SmuxCmd.Psh:
          // Data for unknown or closed streams is read and discarded.
          if (this.streams.has(frame.streamId) && frame.data.length > 0) {
            this.handlers.onData(frame.streamId, frame.data);
          }
          break;
        case SmuxCmd.Fin:
          if (this.streams.delete(frame.streamId)) this.handlers.onRemoteClose(frame.streamId);
          break;
        default:
          break; // NOP: only proves the peer is alive
      }
    }
  }

  /** Sends stream data, split into frames of at most MaxFrameSize like an smux writer. */
  send(streamId: number, data: Uint8Array): void {
    if (!this.streams.has(streamId)) return;
    for (let offset = 0; offset < data.length; offset += MAX_FRAME_DATA) {
      this.handlers.write(
        encodeSmuxFrame(SmuxCmd.Psh, streamId, data.subarray(offset, offset + MAX_FRAME_DATA)),
      );
    }
  }

  /** Local close: FIN, and forget the stream (later frames for it are discarded). */
  close(streamId: number): void {
    if (!this.streams.delete(streamId)) return;
    this.handlers.write(encodeSmuxFrame(SmuxCmd.Fin, streamId));
  }

  /** Ends the session: like smux, nothing is sent; streams are not individually FINed. */
  dispose(): void {
    for (const stop of this.timers) stop();
    this.timers = [];
    this.streams.clear();
    this.failed = true;
  }
}
