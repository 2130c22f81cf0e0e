/**
 * The few BER shapes an LDAP simple bind needs (RFC 4511 §4.2/§4.3, X.690 definite lengths). PostgreSQL's
 * `ldap` auth in simple-bind mode sends exactly: BindRequest, then UnbindRequest.
 */

export const TAG_SEQUENCE = 0x30;
export const TAG_INTEGER = 0x02;
export const TAG_OCTET_STRING = 0x04;
export const TAG_ENUMERATED = 0x0a;
/** [APPLICATION 0] constructed */
export const TAG_BIND_REQUEST = 0x60;
/** [APPLICATION 1] constructed */
export const TAG_BIND_RESPONSE = 0x61;
/** [APPLICATION 2] primitive (NULL content) */
export const TAG_UNBIND_REQUEST = 0x42;
/** [CONTEXT 0] primitive: AuthenticationChoice.simple */
export const TAG_AUTH_SIMPLE = 0x80;

export interface Tlv {
  readonly tag: number;
  readonly value: Uint8Array;
  /** Bytes the whole TLV occupies. */
  readonly size: number;
}

export class BerError extends Error {}

/**
 * Reads one TLV at `offset`. Returns undefined when `buf` does not yet hold the whole element (the caller
 * waits for more bytes); throws BerError on malformed or oversized input.
 */
export function readTlv(buf: Uint8Array, offset = 0, maxLength = 64 * 1024): Tlv | undefined {
  if (buf.length - offset < 2) return undefined;
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new BerError("multi-byte tags are not used by LDAP");
  const first = buf[offset + 1] as number;
  let length: number;
  let header: number;
  if (first < 0x80) {
    length = first;
    header = 2;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new BerError("indefinite lengths are not allowed in LDAP");
    if (count > 4) throw new BerError("length field too long");
    if (buf.length - offset < 2 + count) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    header = 2 + count;
  }
  if (length > maxLength)
    throw new BerError(`element of ${length} bytes exceeds the ${maxLength}-byte limit`);
  if (buf.length - offset < header + length) return undefined;
  return {
    tag,
    value: buf.subarray(offset + header, offset + header + length),
    size: header + length,
  };
}

/** Reads all TLVs that make up a constructed value; throws if they do not fill it exactly. */
export function readChildren(value: Uint8Array): Tlv[] {
  const children: Tlv[] = [];
  let offset = 0;
  while (offset < value.length) {
    const tlv = readTlv(value, offset);
    if (!tlv) throw new BerError("truncated element");
    children.push(tlv);
    offset += tlv.size;
  }
  return children;
}

export function readInteger(value: Uint8Array): number {
  if (value.length === 0 || value.length > 4) throw new BerError("integer out of range");
  let n = (value[0] as number) & 0x80 ? -1 : 0;
  for (const byte of value) n = n * 256 + byte;
  return n;
}

export function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  const length = encodeLength(value.length);
  const out = new Uint8Array(1 + length.length + value.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(value, 1 + length.length);
  return out;
}

export function encodeInteger(n: number, tag = TAG_INTEGER): Uint8Array {
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  // Keep non-negative numbers positive in two's complement.
  if (((bytes[0] as number) & 0x80) !== 0) bytes.unshift(0);
  return encodeTlv(tag, Uint8Array.from(bytes));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export interface BindRequest {
  readonly kind: "bind";
  readonly messageId: number;
  readonly version: number;
  readonly dn: string;
  /** The simple-auth password; undefined for SASL binds (which we refuse). */
  readonly password: string | undefined;
}

export interface UnbindRequest {
  readonly kind: "unbind";
  readonly messageId: number;
}

export interface OtherRequest {
  readonly kind: "other";
  readonly messageId: number;
  readonly tag: number;
}

export type LdapRequest = BindRequest | UnbindRequest | OtherRequest;

const text = new TextDecoder("utf-8", { fatal: true });

/** Decodes the value of an LDAPMessage SEQUENCE. */
export function decodeLdapMessage(message: Tlv): LdapRequest {
  if (message.tag !== TAG_SEQUENCE) throw new BerError("LDAPMessage is not a SEQUENCE");
  const [id, op] = readChildren(message.value);
  if (!id || id.tag !== TAG_INTEGER || !op) throw new BerError("LDAPMessage lacks messageID or protocolOp");
  const messageId = readInteger(id.value);
  if (op.tag === TAG_UNBIND_REQUEST) return { kind: "unbind", messageId };
  if (op.tag !== TAG_BIND_REQUEST) return { kind: "other", messageId, tag: op.tag };
  const [version, name, auth] = readChildren(op.value);
  if (!version || version.tag !== TAG_INTEGER || !name || name.tag !== TAG_OCTET_STRING || !auth) {
    throw new BerError("malformed BindRequest");
  }
  return {
    kind: "bind",
    messageId,
    version: readInteger(version.value),
    dn: text.decode(name.value),
    password: auth.tag === TAG_AUTH_SIMPLE ? text.decode(auth.value) : undefined,
  };
}

/** LDAP result codes we answer with (RFC 4511 appendix A). */
export const RESULT_SUCCESS = 0;
export const RESULT_PROTOCOL_ERROR = 2;
export const RESULT_AUTH_METHOD_NOT_SUPPORTED = 7;
export const RESULT_INVALID_CREDENTIALS = 49;

export function encodeBindResponse(messageId: number, resultCode: number, diagnostic = ""): Uint8Array {
  const response = encodeTlv(
    TAG_BIND_RESPONSE,
    concat(
      encodeInteger(resultCode, TAG_ENUMERATED),
      encodeTlv(TAG_OCTET_STRING, new Uint8Array(0)),
      encodeTlv(TAG_OCTET_STRING, new TextEncoder().encode(diagnostic)),
    ),
  );
  return encodeTlv(TAG_SEQUENCE, concat(encodeInteger(messageId), response));
}

/** Encodes a BindRequest (used by tests to talk to the server like libldap does). */
export function encodeBindRequest(messageId: number, dn: string, password: string): Uint8Array {
  const enc = new TextEncoder();
  const bind = encodeTlv(
    TAG_BIND_REQUEST,
    concat(
      encodeInteger(3),
      encodeTlv(TAG_OCTET_STRING, enc.encode(dn)),
      encodeTlv(TAG_AUTH_SIMPLE, enc.encode(password)),
    ),
  );
  return encodeTlv(TAG_SEQUENCE, concat(encodeInteger(messageId), bind));
}
