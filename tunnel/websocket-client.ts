/**
 * A minimal RFC 6455 WebSocket client for the data channel, over node:net / node:tls, with the one thing
 * the runtime's WebSocket cannot do: frames sent during one turn of the event loop leave in ONE socket
 * write. The data channel sends a frame per message each way (an ack per downloaded KiB, a data message per
 * uploaded KiB); with Bun's WebSocket every send is its own write system call (about 3 µs per message, half
 * the client's CPU per message). Here the acks of every message read from one socket chunk share a write.
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
import { BufferPool } from "./buffer-pool.ts";

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
 * Write buffers kept for reuse: 16 × 256 KiB covers a full send window (2 MiB of payload plus headers)
 * leaving in one turn. Only a frame bigger than a buffer gets a one-off one.
 */
const WRITE_POOL_BUFFERS = 16;
const WRITE_BUFFER_BYTES = 256 * 1024;
const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_WORDS = new Uint32Array(0);

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

/** Random masking keys drawn in bulk (RFC 6455 §5.3: unpredictable, one per frame). */
const keyPool = new Uint8Array(4096);
let keyOffset = keyPool.length;

function nextMaskKey(out: Uint8Array, offset: number): void {
  if (keyOffset + 4 > keyPool.length) {
    crypto.getRandomValues(keyPool);
    keyOffset = 0;
  }
  out[offset] = keyPool[keyOffset] as number;
  out[offset + 1] = keyPool[keyOffset + 1] as number;
  out[offset + 2] = keyPool[keyOffset + 2] as number;
  out[offset + 3] = keyPool[keyOffset + 3] as number;
  keyOffset += 4;
}

/** Bytes of a masked client frame's header (2, 4 or 10) plus its 4-byte masking key. */
function frameHeaderBytes(length: number): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + 4;
}

/** Scratch for the masking key rotated to a word boundary. */
const rotated = new Uint8Array(4);
const rotatedWord = new Uint32Array(rotated.buffer);

/**
 * Writes one masked client frame into `out` at `at` (RFC 6455 §5.2) and returns where it ends. The payload
 * is copied in and masked in place, whole 32-bit words where `out` is word-aligned (the key repeats every
 * 4 bytes, so an aligned word takes the key rotated by its distance from the payload start).
 */
export function writeClientFrame(
  out: Uint8Array,
  words: Uint32Array,
  at: number,
  opcode: number,
  payload: Uint8Array,
): number {
  const length = payload.length;
  const start = at + frameHeaderBytes(length);
  out[at] = 0x80 | opcode;
  if (length < 126) {
    out[at + 1] = 0x80 | length;
  } else if (length < 65536) {
    out[at + 1] = 0x80 | 126;
    out[at + 2] = length >>> 8;
    out[at + 3] = length & 0xff;
  } else {
    out[at + 1] = 0x80 | 127;
    const high = Math.floor(length / 2 ** 32);
    const low = length >>> 0;
    for (let i = 0; i < 4; i++) {
      out[at + 2 + i] = (high >>> (24 - 8 * i)) & 0xff;
      out[at + 6 + i] = (low >>> (24 - 8 * i)) & 0xff;
    }
  }
  const key = start - 4;
  nextMaskKey(out, key);
  out.set(payload, start);
  const end = start + length;
  // Bytes before the first word boundary, then whole words, then the tail.
  let i = start;
  const firstWord = Math.min(end, (start + 3) & ~3);
  for (; i < firstWord; i++) out[i] = (out[i] as number) ^ (out[key + ((i - start) & 3)] as number);
  if (i + 4 <= end) {
    for (let k = 0; k < 4; k++) rotated[k] = out[key + ((i - start + k) & 3)] as number;
    const mask = rotatedWord[0] as number;
    const lastWord = end >>> 2;
    for (let w = i >>> 2; w < lastWord; w++) words[w] = (words[w] as number) ^ mask;
    i = lastWord << 2;
  }
  for (; i < end; i++) out[i] = (out[i] as number) ^ (out[key + ((i - start) & 3)] as number);
  return end;
}

/** One masked client frame on its own (control frames, tests). */
export function encodeClientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const size = frameHeaderBytes(payload.length) + payload.length;
  const buffer = new ArrayBuffer((size + 3) & ~3);
  writeClientFrame(new Uint8Array(buffer), new Uint32Array(buffer), 0, opcode, payload);
  return new Uint8Array(buffer, 0, size);
}

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
  /** Messages sent in this turn: encoded together into one buffer and written once after it. */
  private readonly outOpcodes: number[] = [];
  private readonly outPayloads: Uint8Array[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  /** Buffers of finished writes, reused for the next flushes instead of one new buffer per turn. */
  private readonly writeBuffers = new BufferPool(WRITE_POOL_BUFFERS, WRITE_BUFFER_BYTES);
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
    return this.outBytes + this.socket.writableLength;
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== WebSocketClient.OPEN) return;
    if (typeof data === "string") this.queue(Op.Text, utf8.encode(data));
    else this.queue(Op.Binary, data);
  }

  ping(data = ""): void {
    if (this.readyState !== WebSocketClient.OPEN) return;
    this.queue(Op.Ping, utf8.encode(data).subarray(0, 125));
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
   * Frames queued in this turn of the event loop go out in one write, right after it. The payload is kept
   * by reference until then: callers hand over bytes they do not change (encoded messages).
   */
  private queue(opcode: number, payload: Uint8Array): void {
    this.outOpcodes.push(opcode);
    this.outPayloads.push(payload);
    this.outBytes += frameHeaderBytes(payload.length) + payload.length;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  /**
   * Encodes the queued frames into pooled write buffers (a turn's frames share one buffer up to its size;
   * a burst fills several) and writes each once.
   */
  private flush(): void {
    this.flushScheduled = false;
    const count = this.outPayloads.length;
    if (count === 0) return;
    let buffer: ArrayBuffer | undefined;
    let out = EMPTY_BYTES;
    let words = EMPTY_WORDS;
    let at = 0;
    let remaining = this.outBytes;
    for (let i = 0; i < count; i++) {
      const payload = this.outPayloads[i] as Uint8Array;
      const size = frameHeaderBytes(payload.length) + payload.length;
      if (buffer === undefined || at + size > buffer.byteLength) {
        if (buffer !== undefined) this.write(buffer, at);
        // Word-aligned frames need a word-multiple buffer (the masking loop writes whole words).
        buffer = this.writeBuffers.take((Math.max(size, Math.min(remaining, WRITE_BUFFER_BYTES)) + 3) & ~3);
        out = new Uint8Array(buffer);
        words = new Uint32Array(buffer);
        at = 0;
      }
      at = writeClientFrame(out, words, at, this.outOpcodes[i] as number, payload);
      remaining -= size;
    }
    this.outOpcodes.length = 0;
    this.outPayloads.length = 0;
    this.outBytes = 0;
    if (buffer !== undefined) this.write(buffer, at);
  }

  /**
   * Writes the first `length` bytes of a pooled buffer. The socket (or its stream's queue) holds them until
   * the write's callback: only then may the buffer carry other frames.
   */
  private write(buffer: ArrayBuffer, length: number): void {
    if (this.socket.destroyed) {
      this.writeBuffers.give(buffer);
      return;
    }
    this.socket.write(new Uint8Array(buffer, 0, length), () => this.writeBuffers.give(buffer));
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
    this.queue(Op.Close, payload);
    queueMicrotask(() => this.socket.end());
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
          this.queue(Op.Pong, payload);
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
