/**
 * The MySQL client/server protocol packets the proxy reads or writes during the login (MySQL docs,
 * "Connection Phase"): the server greeting (Protocol::HandshakeV10), the client's HandshakeResponse41 and
 * SSLRequest, AuthSwitchRequest, OK and ERR. After the login everything is relayed as bytes.
 */
import { createHash } from "node:crypto";

export const CLIENT = {
  LONG_PASSWORD: 0x1,
  FOUND_ROWS: 0x2,
  LONG_FLAG: 0x4,
  CONNECT_WITH_DB: 0x8,
  IGNORE_SPACE: 0x100,
  PROTOCOL_41: 0x200,
  INTERACTIVE: 0x400,
  SSL: 0x800,
  TRANSACTIONS: 0x2000,
  SECURE_CONNECTION: 0x8000,
  MULTI_STATEMENTS: 0x10000,
  MULTI_RESULTS: 0x20000,
  PS_MULTI_RESULTS: 0x40000,
  PLUGIN_AUTH: 0x80000,
  CONNECT_ATTRS: 0x100000,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 0x200000,
  SESSION_TRACK: 0x800000,
  DEPRECATE_EOF: 0x1000000,
} as const;

/**
 * What the proxy offers clients: features every MySQL 8 and MariaDB 10.x server has, so the capabilities
 * the client agrees with us are the ones the server agrees with us (the relayed bytes depend on them).
 * No compression, no LOCAL INFILE, no query attributes.
 */
export const PROXY_CAPABILITIES =
  CLIENT.LONG_PASSWORD |
  CLIENT.FOUND_ROWS |
  CLIENT.LONG_FLAG |
  CLIENT.CONNECT_WITH_DB |
  CLIENT.IGNORE_SPACE |
  CLIENT.PROTOCOL_41 |
  CLIENT.INTERACTIVE |
  CLIENT.TRANSACTIONS |
  CLIENT.SECURE_CONNECTION |
  CLIENT.MULTI_STATEMENTS |
  CLIENT.MULTI_RESULTS |
  CLIENT.PS_MULTI_RESULTS |
  CLIENT.PLUGIN_AUTH |
  CLIENT.CONNECT_ATTRS |
  CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA |
  CLIENT.SESSION_TRACK |
  CLIENT.DEPRECATE_EOF;

export const NATIVE_PASSWORD = "mysql_native_password";
export const CLEAR_PASSWORD = "mysql_clear_password";
/** utf8mb4_general_ci: known to every MySQL 5.5+ and MariaDB client. */
export const CHARSET_UTF8MB4 = 45;
const SERVER_STATUS_AUTOCOMMIT = 0x0002;

export interface Packet {
  readonly sequence: number;
  readonly payload: Buffer;
}

export function packet(sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence & 0xff;
  return Buffer.concat([header, payload]);
}

export interface Greeting {
  readonly serverVersion: string;
  readonly connectionId: number;
  readonly capabilities: number;
  readonly scramble: Buffer;
  readonly authPlugin: string;
}

/** Protocol::HandshakeV10 as the proxy sends it to clients. */
export function greeting(g: Greeting): Buffer {
  const low = Buffer.alloc(2);
  low.writeUInt16LE(g.capabilities & 0xffff);
  const high = Buffer.alloc(2);
  high.writeUInt16LE((g.capabilities >>> 16) & 0xffff);
  const id = Buffer.alloc(4);
  id.writeUInt32LE(g.connectionId);
  const status = Buffer.alloc(2);
  status.writeUInt16LE(SERVER_STATUS_AUTOCOMMIT);
  return Buffer.concat([
    Buffer.from([10]),
    cstring(g.serverVersion),
    id,
    g.scramble.subarray(0, 8),
    Buffer.from([0]),
    low,
    Buffer.from([CHARSET_UTF8MB4]),
    status,
    high,
    Buffer.from([g.scramble.length + 1]),
    Buffer.alloc(10),
    g.scramble.subarray(8),
    Buffer.from([0]),
    cstring(g.authPlugin),
  ]);
}

export function parseGreeting(payload: Buffer): Greeting {
  if (payload[0] === 0xff) throw new MysqlServerError(parseErr(payload));
  if (payload[0] !== 10) throw new Error(`unsupported protocol version ${payload[0]}`);
  const r = new Reader(payload, 1);
  const serverVersion = r.cstring();
  const connectionId = r.uint32();
  const salt1 = r.bytes(8);
  r.skip(1);
  let capabilities = r.uint16();
  let authLength = 0;
  let salt2: Buffer = Buffer.alloc(0);
  let authPlugin = NATIVE_PASSWORD;
  if (!r.done()) {
    r.skip(1 + 2); // charset, status
    capabilities |= r.uint16() << 16;
    authLength = r.uint8();
    r.skip(10);
    if (capabilities & CLIENT.SECURE_CONNECTION)
      salt2 = r.bytes(Math.max(13, authLength - 8)).subarray(0, -1);
    if (capabilities & CLIENT.PLUGIN_AUTH && !r.done()) authPlugin = r.cstring();
  }
  return {
    serverVersion,
    connectionId,
    capabilities: capabilities >>> 0,
    scramble: Buffer.concat([salt1, salt2]),
    authPlugin,
  };
}

export interface HandshakeResponse {
  readonly capabilities: number;
  readonly maxPacket: number;
  readonly charset: number;
  readonly user: string;
  readonly authResponse: Buffer;
  readonly database?: string;
  readonly authPlugin?: string;
  /** The raw CONNECT_ATTRS block (length prefix included), passed on unchanged. */
  readonly attributes?: Buffer;
}

/** True for the 32-byte SSLRequest a client sends before TLS. */
export function isSslRequest(payload: Buffer): boolean {
  return payload.length === 32 && (payload.readUInt32LE(0) & CLIENT.SSL) !== 0;
}

export function parseHandshakeResponse(payload: Buffer): HandshakeResponse {
  const r = new Reader(payload, 0);
  const capabilities = r.uint32();
  if (!(capabilities & CLIENT.PROTOCOL_41)) throw new Error("the client does not speak protocol 4.1");
  const maxPacket = r.uint32();
  const charset = r.uint8();
  r.skip(23);
  const user = r.cstring();
  let authResponse: Buffer;
  if (capabilities & CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA) authResponse = r.bytes(r.lenenc());
  else if (capabilities & CLIENT.SECURE_CONNECTION) authResponse = r.bytes(r.uint8());
  else authResponse = Buffer.from(r.cstring());
  const database = capabilities & CLIENT.CONNECT_WITH_DB && !r.done() ? r.cstring() : undefined;
  const authPlugin = capabilities & CLIENT.PLUGIN_AUTH && !r.done() ? r.cstring() : undefined;
  let attributes: Buffer | undefined;
  if (capabilities & CLIENT.CONNECT_ATTRS && !r.done()) {
    const start = r.offset;
    r.skip(r.lenenc());
    attributes = payload.subarray(start, r.offset);
  }
  return {
    capabilities: capabilities >>> 0,
    maxPacket,
    charset,
    user,
    authResponse,
    ...(database ? { database } : {}),
    ...(authPlugin ? { authPlugin } : {}),
    ...(attributes ? { attributes } : {}),
  };
}

/** The fixed 32-byte head of a HandshakeResponse41; alone it is the SSLRequest. */
function responseHead(capabilities: number, maxPacket: number, charset: number): Buffer {
  const head = Buffer.alloc(32);
  head.writeUInt32LE(capabilities >>> 0, 0);
  head.writeUInt32LE(maxPacket >>> 0, 4);
  head[8] = charset;
  return head;
}

export function sslRequestPayload(capabilities: number, maxPacket: number, charset: number): Buffer {
  return responseHead(capabilities | CLIENT.SSL, maxPacket, charset);
}

export function handshakeResponsePayload(r: HandshakeResponse): Buffer {
  const parts = [responseHead(r.capabilities, r.maxPacket, r.charset), cstring(r.user)];
  parts.push(lenenc(r.authResponse.length), r.authResponse);
  if (r.capabilities & CLIENT.CONNECT_WITH_DB) parts.push(cstring(r.database ?? ""));
  if (r.capabilities & CLIENT.PLUGIN_AUTH) parts.push(cstring(r.authPlugin ?? ""));
  if (r.capabilities & CLIENT.CONNECT_ATTRS) parts.push(r.attributes ?? Buffer.from([0]));
  return Buffer.concat(parts);
}

export function authSwitchRequest(plugin: string, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0xfe]), cstring(plugin), data, Buffer.from([0])]);
}

export function parseAuthSwitch(payload: Buffer): { plugin: string; data: Buffer } {
  const r = new Reader(payload, 1);
  const plugin = r.cstring();
  return { plugin, data: payload.subarray(r.offset) };
}

export interface ErrFields {
  readonly code: number;
  readonly sqlstate: string;
  readonly message: string;
}

export function errPacket(e: ErrFields): Buffer {
  const code = Buffer.alloc(2);
  code.writeUInt16LE(e.code);
  return Buffer.concat([
    Buffer.from([0xff]),
    code,
    Buffer.from(`#${e.sqlstate.padEnd(5, "0").slice(0, 5)}`),
    Buffer.from(e.message),
  ]);
}

export function parseErr(payload: Buffer): ErrFields {
  const code = payload.readUInt16LE(1);
  const hasState = payload[3] === 0x23; // '#'
  return {
    code,
    sqlstate: hasState ? payload.subarray(4, 9).toString("latin1") : "HY000",
    message: payload.subarray(hasState ? 9 : 3).toString("utf8"),
  };
}

/** mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))). */
export function nativePasswordResponse(password: string, scramble: Buffer): Buffer {
  const sha1 = (data: Buffer | string) => createHash("sha1").update(data).digest();
  const stage1 = sha1(password);
  const mix = sha1(Buffer.concat([scramble.subarray(0, 20), sha1(stage1)]));
  return Buffer.from(stage1.map((b, i) => b ^ (mix[i] ?? 0)));
}

export class MysqlServerError extends Error {
  override readonly name = "MysqlServerError";
  constructor(readonly fields: ErrFields) {
    super(fields.message);
  }
}

function cstring(value: string): Buffer {
  return Buffer.concat([Buffer.from(value, "utf8"), Buffer.from([0])]);
}

function lenenc(n: number): Buffer {
  if (n < 251) return Buffer.from([n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = 0xfc;
    b.writeUInt16LE(n, 1);
    return b;
  }
  const b = Buffer.alloc(4);
  b[0] = 0xfd;
  b.writeUIntLE(n, 1, 3);
  return b;
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    public offset: number,
  ) {}
  done(): boolean {
    return this.offset >= this.buf.length;
  }
  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new Error("packet shorter than its fields");
  }
  uint8(): number {
    this.need(1);
    return this.buf[this.offset++] ?? 0;
  }
  uint16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }
  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }
  lenenc(): number {
    const first = this.uint8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.uint16();
    if (first === 0xfd) {
      this.need(3);
      const v = this.buf.readUIntLE(this.offset, 3);
      this.offset += 3;
      return v;
    }
    throw new Error("length-encoded integer out of range");
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.offset += n;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.offset);
    if (end === -1) throw new Error("unterminated string");
    const v = this.buf.subarray(this.offset, end).toString("utf8");
    this.offset = end + 1;
    return v;
  }
}
