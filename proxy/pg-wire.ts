/**
 * The few PostgreSQL frontend/backend protocol 3.0 messages the proxy reads or writes itself (PostgreSQL
 * docs, "Message Formats"). Everything after the login is relayed as bytes and never parsed.
 */

/** Codes in the first (untyped) packet a client sends. */
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;
/** Protocol 3.0 (major 3 in the high 16 bits, minor 0). */
export const PROTOCOL_3_0 = 196608;

/** A startup packet may not be longer than this (PostgreSQL's MAX_STARTUP_PACKET_LENGTH). */
export const MAX_STARTUP_PACKET = 10_000;
/** Login-phase messages we parse are small; anything bigger is not a client or server we understand. */
export const MAX_LOGIN_MESSAGE = 1 << 20;

export type StartupPacket =
  | { readonly kind: "ssl" }
  | { readonly kind: "gssenc" }
  | { readonly kind: "cancel"; readonly pid: number; readonly secret: number }
  | { readonly kind: "startup"; readonly protocol: number; readonly params: ReadonlyMap<string, string> };

/** Parses the body of a startup packet (everything after its Int32 length). */
export function parseStartupPacket(body: Buffer): StartupPacket {
  if (body.length < 4) throw new WireError("startup packet shorter than its code");
  const code = body.readInt32BE(0);
  if (code === SSL_REQUEST_CODE) return { kind: "ssl" };
  if (code === GSSENC_REQUEST_CODE) return { kind: "gssenc" };
  if (code === CANCEL_REQUEST_CODE) {
    if (body.length !== 12) throw new WireError("CancelRequest of the wrong length");
    return { kind: "cancel", pid: body.readInt32BE(4), secret: body.readInt32BE(8) };
  }
  if (code >>> 16 !== 3) throw new WireError(`unsupported protocol version ${code >>> 16}.${code & 0xffff}`);
  const params = new Map<string, string>();
  const fields = body.subarray(4).toString("utf8").split("\0");
  // key\0value\0 ... \0: the list ends with an empty key.
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const key = fields[i] ?? "";
    if (key === "") break;
    params.set(key, fields[i + 1] ?? "");
  }
  return { kind: "startup", protocol: code, params };
}

/** A startup message (protocol 3.0) with the given parameters, in order. */
export function startupMessage(params: ReadonlyMap<string, string>): Buffer {
  const parts: Buffer[] = [int32(PROTOCOL_3_0)];
  for (const [key, value] of params) parts.push(cstring(key), cstring(value));
  parts.push(Buffer.from([0]));
  return withLength(Buffer.concat(parts));
}

export function sslRequest(): Buffer {
  return withLength(int32(SSL_REQUEST_CODE));
}

export function cancelRequest(pid: number, secret: number): Buffer {
  return withLength(Buffer.concat([int32(CANCEL_REQUEST_CODE), int32(pid), int32(secret)]));
}

/** A typed message: Byte1 type, Int32 length (including itself), body. */
export function message(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, "latin1");
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** Authentication request codes (the Int32 after an 'R'). */
export const AUTH_OK = 0;
export const AUTH_CLEARTEXT = 3;
export const AUTH_MD5 = 5;
export const AUTH_SASL = 10;

export function authenticationOk(): Buffer {
  return message("R", int32(AUTH_OK));
}

export function authenticationMd5(salt: Buffer): Buffer {
  return message("R", Buffer.concat([int32(AUTH_MD5), salt]));
}

export function passwordMessage(password: string): Buffer {
  return message("p", cstring(password));
}

export function backendKeyData(pid: number, secret: number): Buffer {
  return message("K", Buffer.concat([int32(pid), int32(secret)]));
}

/** NegotiateProtocolVersion: we speak 3.0 and none of the client's `_pq_.` options. */
export function negotiateProtocolVersion(unsupportedOptions: readonly string[]): Buffer {
  return message(
    "v",
    Buffer.concat([
      int32(PROTOCOL_3_0),
      int32(unsupportedOptions.length),
      ...unsupportedOptions.map(cstring),
    ]),
  );
}

export interface ErrorFields {
  /** SQLSTATE, e.g. 28P01. */
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /** @default "FATAL" */
  readonly severity?: "ERROR" | "FATAL";
}

/** ErrorResponse: what GUIs show in their error dialog (message, detail, hint). */
export function errorResponse(fields: ErrorFields): Buffer {
  const severity = fields.severity ?? "FATAL";
  const parts = [
    field("S", severity),
    field("V", severity),
    field("C", fields.code),
    field("M", fields.message),
  ];
  if (fields.detail) parts.push(field("D", fields.detail));
  if (fields.hint) parts.push(field("H", fields.hint));
  parts.push(Buffer.from([0]));
  return message("E", Buffer.concat(parts));
}

/** The fields of an ErrorResponse/NoticeResponse body, keyed by their one-letter code. */
export function parseErrorFields(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const code = String.fromCharCode(body[at] ?? 0);
    const end = body.indexOf(0, at + 1);
    if (end === -1) break;
    out.set(code, body.subarray(at + 1, end).toString("utf8"));
    at = end + 1;
  }
  return out;
}

/** The password of a PasswordMessage body (a C string). */
export function parsePassword(body: Buffer): string {
  const end = body.indexOf(0);
  return body.subarray(0, end === -1 ? body.length : end).toString("utf8");
}

export class WireError extends Error {
  override readonly name = "WireError";
}

function field(code: string, value: string): Buffer {
  return Buffer.concat([Buffer.from(code, "latin1"), cstring(value)]);
}

function cstring(value: string): Buffer {
  return Buffer.concat([Buffer.from(value, "utf8"), Buffer.from([0])]);
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value | 0, 0);
  return b;
}

function withLength(body: Buffer): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([b, body]);
}
