/**
 * A minimal RFC 6455 WebSocket client for the data channel, over node:net / node:tls, with the one thing
 * the runtime's WebSocket cannot do: frames sent during one turn of the event loop leave in ONE socket
 * write. The data channel sends a frame per message each way (an ack per downloaded KiB, a data message per
 * uploaded KiB); with Bun's WebSocket every send is its own write system call (about 3 µs per message, half
 * the client's CPU per message). Here the acks of every message read from one socket chunk share a write
 * (tunnel/frame-writer.ts), and reading stops while too much waits to be written (READ_PAUSE_BACKLOG_BYTES).
 *
 * Scope, on purpose: the client role only, no extensions (no permessage-deflate is offered), no
 * subprotocols, no proxy (the runtime's WebSocket was not given one either). TLS verifies the server's
 * certificate and name against the runtime's trusted roots, as `wss://` in the runtime's WebSocket does.
 * Frames from the server that break the protocol (masked, reserved bits, oversized, bad opcode) close the
 * connection with the RFC's code; nothing a server sends throws out of this class.
 */
import { createHash } from "node:crypto";
import { isIP, connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { FrameWriter } from "./frame-writer.ts";
import { stopReading } from "./stop-reading.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Largest message accepted (data-channel messages are ~1.2 KiB; a handshake or error text a few KiB). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Largest HTTP response head accepted before the upgrade. */
const MAX_RESPONSE_HEAD = 16 * 1024;
/** How long the TCP/TLS connect and the upgrade may take (gorilla/websocket's default dialer, the plugin's). */
export const HANDSHAKE_TIMEOUT_MS = 45_000;
/** How long a closing socket waits for the server's close before it is destroyed. */
const CLOSE_GRACE_MS = 2000;
/**
 * Unsent bytes at which the client stops reading the socket until most of them are written. Every data
 * message read is answered with an ack (~250 bytes per KiB), so a server that sends faster than it reads
 * piled the acks up in this process (16 MB during a 64 MB download, bench/tunnel-memory.ts); not reading
 * is TCP's own answer: the sender slows down instead.
 */
export const READ_PAUSE_BACKLOG_BYTES = 1024 * 1024;

const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

export interface WebSocketClientOptions {
  /** Extra TLS options for `wss://` (tests: a private CA). Verification stays on. */
  readonly tls?: Pick<ConnectionOptions, "ca">;
  /** @default HANDSHAKE_TIMEOUT_MS */
  readonly handshakeTimeoutMs?: number;
}

export interface CloseEventLike {
  readonly code: number;
  readonly reason: string;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Header plus payload bytes of the server frame at `at`, or -1 while its header is incomplete. */
function frameSize(buf: Uint8Array, at: number): number {
  if (buf.length - at < 2) return -1;
  const length = (buf[at + 1] as number) & 0x7f;
  if (length < 126) return 2 + length;
  if (length === 126) {
    if (buf.length - at < 4) return -1;
    return 4 + (((buf[at + 2] as number) << 8) | (buf[at + 3] as number));
  }
  if (buf.length - at < 10) return -1;
  let value = 0;
  for (let i = 2; i < 10; i++) value = value * 256 + (buf[at + i] as number);
  return 10 + value;
}

export class WebSocketClient {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  readyState: number = WebSocketClient.CONNECTING;
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: Uint8Array | string }) => void) | null = null;
  onclose: ((event: CloseEventLike) => void) | null = null;
  onerror: (() => void) | null = null;

  private readonly socket: Socket;
  private readonly key: string;
  private head: Buffer | undefined = Buffer.alloc(0);
  /** Bytes received and not yet parsed (a partial frame). */
  private rest: Buffer | undefined;
  private fragments: Uint8Array[] = [];
  private fragmentsBytes = 0;
  private fragmentOpcode = 0;
  /** Frames waiting for the socket: masked as they are queued, written one buffer at a time. */
  private readonly writer: FrameWriter;
  /** True while reading is stopped because too much is waiting to be written. */
  private readingPaused = false;
  private closeSent = false;
  private closeCode = 1006;
  private closeReason = "";
  private closedFired = false;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    url: string,
    private readonly options: WebSocketClientOptions = {},
  ) {
    const target = new URL(url);
    const secure = target.protocol === "wss:";
    if (!secure && target.protocol !== "ws:") {
      throw new SyntaxError(`not a WebSocket URL (ws: or wss:): ${target.protocol}`);
    }
    const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(target.port) || (secure ? 443 : 80);
    this.key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
    const request =
      `GET ${target.pathname || "/"}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${this.key}\r\n` +
      "Sec-WebSocket-Version: 13\r\n\r\n";
    this.socket = secure
      ? tlsConnect({
          host,
          port,
          ALPNProtocols: ["http/1.1"],
          ...(isIP(host) === 0 ? { servername: host } : {}),
          ...(this.options.tls?.ca ? { ca: this.options.tls.ca } : {}),
        })
      : netConnect({ host, port });
    this.socket.setNoDelay(true);
    this.writer = new FrameWriter(this.socket, () => this.updateReading());
    this.socket.once(secure ? "secureConnect" : "connect", () => this.socket.write(request));
    this.socket.on("data", (chunk: Buffer) => this.onData(chunk));
    // The close that follows reports it (onerror first while connecting, then onclose with 1006).
    this.socket.on("error", () => {});
    this.socket.on("close", () => this.fireClose());
    // A server (or a black-holed route) that never completes the upgrade must not hang the caller.
    const handshakeTimer = setTimeout(() => {
      if (this.readyState === WebSocketClient.CONNECTING) this.socket.destroy();
    }, this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS);
    handshakeTimer.unref?.();
    this.socket.once("close", () => clearTimeout(handshakeTimer));
    this.handshakeTimer = handshakeTimer;
  }

  /** Bytes handed to send() and not yet written to the network. */
  get bufferedAmount(): number {
    return this.writer.queuedBytes + this.socket.writableLength;
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== WebSocketClient.OPEN) return;
    if (typeof data === "string") this.writer.queue(Op.Text, utf8.encode(data));
    else this.writer.queue(Op.Binary, data);
  }

  ping(data = ""): void {
    if (this.readyState !== WebSocketClient.OPEN) return;
    this.writer.queue(Op.Ping, utf8.encode(data).subarray(0, 125));
  }

  /** Starts the closing handshake; `onclose` follows when the socket is gone. */
  close(code = 1000, reason = ""): void {
    if (this.readyState === WebSocketClient.CLOSED || this.readyState === WebSocketClient.CLOSING) return;
    if (this.readyState === WebSocketClient.CONNECTING) {
      this.readyState = WebSocketClient.CLOSING;
      this.socket.destroy();
      return;
    }
    this.sendClose(code, reason);
  }

  /**
   * Stops reading while too much waits to be written, reads again once most of it is out: the answer to
   * a server that sends faster than it reads what it is sent (see READ_PAUSE_BACKLOG_BYTES).
   */
  private updateReading(): void {
    const backlog = this.bufferedAmount;
    if (!this.readingPaused && backlog >= READ_PAUSE_BACKLOG_BYTES) {
      this.readingPaused = true;
      stopReading(this.socket);
    } else if (this.readingPaused && backlog < READ_PAUSE_BACKLOG_BYTES / 2) {
      this.readingPaused = false;
      this.socket.resume();
    }
  }

  private sendClose(code: number, reason: string): void {
    if (this.closeSent) return;
    this.closeSent = true;
    this.readyState = WebSocketClient.CLOSING;
    const text = utf8.encode(reason).subarray(0, 123);
    const payload = new Uint8Array(2 + text.length);
    payload[0] = code >>> 8;
    payload[1] = code & 0xff;
    payload.set(text, 2);
    this.writer.queue(Op.Close, payload);
    this.writer.endAfterFlush();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref?.();
  }

  private fail(code: number, reason: string): void {
    this.closeCode = code;
    this.closeReason = reason;
    if (this.readyState === WebSocketClient.OPEN) this.sendClose(code, reason);
    else this.socket.destroy();
  }

  private fireClose(): void {
    if (this.closedFired) return;
    this.closedFired = true;
    const wasConnecting = this.readyState === WebSocketClient.CONNECTING;
    this.readyState = WebSocketClient.CLOSED;
    if (wasConnecting) this.onerror?.();
    this.onclose?.({ code: this.closeCode, reason: this.closeReason });
  }

  private onData(chunk: Buffer): void {
    if (this.head !== undefined) {
      const head = Buffer.concat([this.head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > MAX_RESPONSE_HEAD) this.socket.destroy();
        else this.head = head;
        return;
      }
      this.head = undefined;
      if (!this.acceptUpgrade(head.subarray(0, end).toString("latin1"))) {
        this.socket.destroy();
        return;
      }
      this.readyState = WebSocketClient.OPEN;
      clearTimeout(this.handshakeTimer);
      this.onopen?.();
      chunk = head.subarray(end + 4);
      if (chunk.length === 0) return;
    }
    this.parse(chunk);
  }

  /** The server's answer to the upgrade: 101, the right Sec-WebSocket-Accept, and nothing negotiated. */
  private acceptUpgrade(head: string): boolean {
    const [status = "", ...lines] = head.split("\r\n");
    if (!/^HTTP\/1\.1 101\b/.test(status)) return false;
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const expected = createHash("sha1")
      .update(this.key + GUID)
      .digest("base64");
    return (
      headers.get("upgrade")?.toLowerCase() === "websocket" &&
      (headers.get("connection") ?? "").toLowerCase().includes("upgrade") &&
      headers.get("sec-websocket-accept") === expected &&
      !headers.has("sec-websocket-extensions") &&
      !headers.has("sec-websocket-protocol")
    );
  }

  /**
   * Parses the frames in `chunk`. A frame cut at the end of the previous chunk is completed with just the
   * bytes it lacks (not by joining two whole chunks, which would copy every chunk once more).
   */
  private parse(chunk: Buffer): void {
    let offset = 0;
    const rest = this.rest;
    if (rest) {
      this.rest = undefined;
      const peek = rest.length >= 14 ? rest : Buffer.concat([rest, chunk.subarray(0, 14 - rest.length)]);
      const size = frameSize(peek, 0);
      const missing = size < 0 ? Number.POSITIVE_INFINITY : size - rest.length;
      if (chunk.length < missing) {
        // Still incomplete (a tiny chunk, or a message of many chunks: bounded by MAX_MESSAGE_BYTES).
        if (size > MAX_MESSAGE_BYTES + 14) this.fail(1009, "message too big");
        else this.rest = Buffer.concat([rest, chunk]);
        return;
      }
      if (this.parseFrames(Buffer.concat([rest, chunk.subarray(0, missing)])) !== size) return;
      offset = missing;
    }
    const done = this.parseFrames(offset === 0 ? chunk : chunk.subarray(offset));
    if (done >= 0 && offset + done < chunk.length && this.readyState !== WebSocketClient.CLOSED) {
      // Keep only the partial frame, not the whole chunk it came in.
      this.rest = Buffer.from(chunk.subarray(offset + done));
    }
  }

  /** Handles the whole frames at the start of `buf`; returns the bytes used, or -1 once failing. */
  private parseFrames(buf: Buffer): number {
    let offset = 0;
    while (buf.length - offset >= 2 && this.readyState !== WebSocketClient.CLOSED) {
      const b0 = buf[offset] as number;
      const b1 = buf[offset + 1] as number;
      if ((b1 & 0x80) !== 0 || (b0 & 0x70) !== 0) {
        this.fail(1002, "masked or extended frame from the server");
        return -1;
      }
      const size = frameSize(buf, offset);
      if (size < 0) break;
      const headerLength = (b1 & 0x7f) < 126 ? 2 : (b1 & 0x7f) === 126 ? 4 : 10;
      const length = size - headerLength;
      if (length > MAX_MESSAGE_BYTES || this.fragmentsBytes + length > MAX_MESSAGE_BYTES) {
        this.fail(1009, "message too big");
        return -1;
      }
      if (buf.length - offset < size) break;
      // A view, no copy: the data channel consumes in-order messages at once (smux copies what it keeps),
      // and messages held out of order arrive in runs that share their chunks.
      const payload = buf.subarray(offset + headerLength, offset + size);
      offset += size;
      if (!this.onFrame((b0 & 0x80) !== 0, b0 & 0x0f, payload)) return -1;
    }
    return offset;
  }

  /** Handles one frame; false once the connection is being failed. */
  private onFrame(fin: boolean, opcode: number, payload: Uint8Array): boolean {
    switch (opcode) {
      case Op.Text:
      case Op.Binary:
        if (this.fragments.length > 0) {
          this.fail(1002, "new message inside a fragmented one");
          return false;
        }
        if (fin) return this.deliver(opcode, payload);
        this.fragmentOpcode = opcode;
        this.fragments.push(payload);
        this.fragmentsBytes += payload.length;
        return true;
      case Op.Continuation: {
        if (this.fragments.length === 0) {
          this.fail(1002, "continuation without a message");
          return false;
        }
        this.fragments.push(payload);
        this.fragmentsBytes += payload.length;
        if (!fin) return true;
        const whole = Buffer.concat(this.fragments, this.fragmentsBytes);
        this.fragments = [];
        this.fragmentsBytes = 0;
        return this.deliver(this.fragmentOpcode, whole);
      }
      case Op.Ping:
        if (this.readyState === WebSocketClient.OPEN && !this.closeSent) {
          this.writer.queue(Op.Pong, payload);
        }
        return true;
      case Op.Pong:
        return true;
      case Op.Close: {
        const code = payload.length >= 2 ? ((payload[0] as number) << 8) | (payload[1] as number) : 1005;
        this.closeCode = code;
        this.closeReason = payload.length > 2 ? new TextDecoder().decode(payload.subarray(2)) : "";
        if (!this.closeSent) this.sendClose(payload.length >= 2 ? code : 1000, "");
        return false;
      }
      default:
        this.fail(1002, `unknown opcode ${opcode}`);
        return false;
    }
  }

  private deliver(opcode: number, payload: Uint8Array): boolean {
    if (this.readyState !== WebSocketClient.OPEN) return true;
    if (opcode === Op.Binary) {
      this.onmessage?.({ data: payload });
      return true;
    }
    let text: string;
    try {
      text = utf8Decoder.decode(payload);
    } catch {
      this.fail(1007, "text message is not UTF-8");
      return false;
    }
    this.onmessage?.({ data: text });
    return true;
  }
}
