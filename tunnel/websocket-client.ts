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

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Largest message accepted (data-channel messages are ~1.2 KiB; a handshake or error text a few KiB). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Largest HTTP response head accepted before the upgrade. */
const MAX_RESPONSE_HEAD = 16 * 1024;
/** How long a closing socket waits for the server's close before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

const Op = { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 } as const;

export interface WebSocketClientOptions {
  /** Extra TLS options for `wss://` (tests: a private CA). Verification stays on. */
  readonly tls?: Pick<ConnectionOptions, "ca">;
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

/**
 * One masked client frame. The frame is placed in its buffer so that the payload starts 4-byte aligned:
 * masking then XORs whole 32-bit words (the key repeats every 4 bytes) instead of single bytes.
 */
export function encodeClientFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const headerLength = 2 + lengthBytes + 4;
  const total = headerLength + length;
  const lead = (4 - (headerLength % 4)) % 4;
  const buffer = new ArrayBuffer(lead + total + ((4 - ((lead + total) % 4)) % 4));
  const out = new Uint8Array(buffer, lead, total);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (lengthBytes === 0) {
    out[1] = 0x80 | length;
  } else if (lengthBytes === 2) {
    out[1] = 0x80 | 126;
    out[2] = length >>> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = 0x80 | 127;
    const view = new DataView(buffer, lead + 2, 8);
    view.setUint32(0, Math.floor(length / 2 ** 32));
    view.setUint32(4, length >>> 0);
  }
  nextMaskKey(out, headerLength - 4);
  out.set(payload, headerLength);
  // lead + headerLength is a multiple of 4: the key and the payload are word-aligned in `buffer`.
  const words = new Uint32Array(buffer, lead + headerLength - 4, 1 + Math.floor(length / 4));
  const key = words[0] as number;
  for (let i = 1; i < words.length; i++) words[i] = (words[i] as number) ^ key;
  for (let i = length - (length % 4); i < length; i++) {
    out[headerLength + i] = (out[headerLength + i] as number) ^ (out[headerLength - 4 + (i % 4)] as number);
  }
  return out;
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
  private readonly out: Uint8Array[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private closeSent = false;
  private closeCode = 1006;
  private closeReason = "";
  private closedFired = false;

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
  }

  /** Bytes handed to send() and not yet written to the network. */
  get bufferedAmount(): number {
    return this.outBytes + this.socket.writableLength;
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== WebSocketClient.OPEN) return;
    if (typeof data === "string") this.queue(encodeClientFrame(Op.Text, utf8.encode(data)));
    else this.queue(encodeClientFrame(Op.Binary, data));
  }

  ping(data = ""): void {
    if (this.readyState !== WebSocketClient.OPEN) return;
    this.queue(encodeClientFrame(Op.Ping, utf8.encode(data).subarray(0, 125)));
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

  /** Frames queued in this turn of the event loop go out in one write, right after it. */
  private queue(frame: Uint8Array): void {
    this.out.push(frame);
    this.outBytes += frame.length;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.out.length === 0) return;
    const data = this.out.length === 1 ? (this.out[0] as Uint8Array) : Buffer.concat(this.out, this.outBytes);
    this.out.length = 0;
    this.outBytes = 0;
    if (!this.socket.destroyed) this.socket.write(data);
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
    this.queue(encodeClientFrame(Op.Close, payload));
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

  private parse(chunk: Buffer): void {
    let buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = undefined;
    let offset = 0;
    while (buf.length - offset >= 2 && this.readyState !== WebSocketClient.CLOSED) {
      const b0 = buf[offset] as number;
      const b1 = buf[offset + 1] as number;
      let length = b1 & 0x7f;
      let headerLength = 2;
      if (length === 126) {
        if (buf.length - offset < 4) break;
        length = buf.readUInt16BE(offset + 2);
        headerLength = 4;
      } else if (length === 127) {
        if (buf.length - offset < 10) break;
        length = buf.readUInt32BE(offset + 2) * 2 ** 32 + buf.readUInt32BE(offset + 6);
        headerLength = 10;
      }
      if ((b1 & 0x80) !== 0 || (b0 & 0x70) !== 0) {
        this.fail(1002, "masked or extended frame from the server");
        return;
      }
      if (length > MAX_MESSAGE_BYTES || this.fragmentsBytes + length > MAX_MESSAGE_BYTES) {
        this.fail(1009, "message too big");
        return;
      }
      if (buf.length - offset < headerLength + length) break;
      // A copy: the message may be held (out-of-order data) after this chunk is gone.
      const payload = buf.slice(offset + headerLength, offset + headerLength + length);
      offset += headerLength + length;
      if (!this.onFrame((b0 & 0x80) !== 0, b0 & 0x0f, payload)) return;
    }
    if (offset < buf.length && this.readyState !== WebSocketClient.CLOSED) {
      buf = buf.subarray(offset);
      this.rest = Buffer.from(buf); // keep only the partial frame, not the whole chunk it came in
    }
  }

  /** Handles one frame; false once the connection is being failed. */
  private onFrame(fin: boolean, opcode: number, payload: Buffer): boolean {
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
          this.queue(encodeClientFrame(Op.Pong, payload));
        }
        return true;
      case Op.Pong:
        return true;
      case Op.Close: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        this.closeCode = code;
        this.closeReason = payload.length > 2 ? payload.subarray(2).toString("utf8") : "";
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
