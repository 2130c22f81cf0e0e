/**
 * The AgentMessage binary format every data-channel frame carries (ssm-session-protocol.md §5).
 * Pure functions, no I/O: the data channel, the agent emulator and the fuzz tests all share them.
 *
 * Layout (all integers big-endian), 120 + n bytes:
 *   0 HeaderLength(4)=116 | 4 MessageType(32, space padded) | 36 SchemaVersion(4) | 40 CreatedDate(8, ms)
 *   48 SequenceNumber(8) | 56 Flags(8) | 64 MessageId(16, halves swapped) | 80 PayloadDigest(32, raw SHA-256)
 *   112 PayloadType(4) | 116 PayloadLength(4) | 120 Payload
 */
import { createHash } from "node:crypto";
import { readWireUuid, writeWireUuid } from "./uuid.ts";

export const HEADER_LENGTH = 116;
export const PAYLOAD_OFFSET = HEADER_LENGTH + 4;
export const MESSAGE_TYPE_LENGTH = 32;

/** Message types on the data channel (§6.1). Peers may send others; those are ignored, not errors. */
export const MessageType = {
  InputStreamData: "input_stream_data",
  OutputStreamData: "output_stream_data",
  Acknowledge: "acknowledge",
  ChannelClosed: "channel_closed",
  StartPublication: "start_publication",
  PausePublication: "pause_publication",
  AgentSessionState: "agent_session_state",
} as const;

/** PayloadType values (§6.2). */
export const PayloadType = {
  None: 0,
  Output: 1,
  Error: 2,
  Size: 3,
  Parameter: 4,
  HandshakeRequest: 5,
  HandshakeResponse: 6,
  HandshakeComplete: 7,
  EncChallengeRequest: 8,
  EncChallengeResponse: 9,
  Flag: 10,
  StdErr: 11,
  ExitCode: 12,
} as const;

/** Flag payload values carried with PayloadType.Flag as a 4-byte BE uint32 (§6.5). */
export const FlagValue = {
  DisconnectToPort: 1,
  TerminateSession: 2,
  ConnectToPortError: 3,
} as const;

/** Header flags bits (§5.1). */
export const MessageFlags = { Syn: 1n, Fin: 2n, Ack: 3n } as const;

export interface AgentMessage {
  readonly messageType: string;
  readonly schemaVersion: number;
  /** Unix epoch milliseconds. */
  readonly createdDate: number;
  readonly sequenceNumber: number;
  readonly flags: bigint;
  /** Lowercase hyphenated UUID text. */
  readonly messageId: string;
  readonly payloadType: number;
  readonly payload: Uint8Array;
}

export interface EncodeInput {
  readonly messageType: string;
  readonly sequenceNumber: number;
  readonly payloadType: number;
  readonly payload?: Uint8Array;
  /** @default 0n */
  readonly flags?: bigint;
  /** @default 1 */
  readonly schemaVersion?: number;
  /** @default Date.now() */
  readonly createdDate?: number;
  /** @default a random v4 UUID */
  readonly messageId?: string;
}

const ascii = new TextEncoder();

export function sha256(bytes: Uint8Array): Uint8Array {
  return createHash("sha256").update(bytes).digest();
}

/** Message type bytes, encoded once per type (the hot path sends the same two or three types). */
const typeBytesCache = new Map<string, Uint8Array>();

function messageTypeBytes(messageType: string): Uint8Array {
  let type = typeBytesCache.get(messageType);
  if (type) return type;
  type = ascii.encode(messageType);
  if (type.length === 0 || type.length > MESSAGE_TYPE_LENGTH) {
    throw new Error(`message type must be 1-${MESSAGE_TYPE_LENGTH} bytes: ${JSON.stringify(messageType)}`);
  }
  if (typeBytesCache.size < 64) typeBytesCache.set(messageType, type);
  return type;
}

/** SHA-256 of `bytes` written into `out` (32 bytes): no hash object, no digest buffer. */
export function sha256Into(bytes: Uint8Array, out: Uint8Array): void {
  Bun.SHA256.hash(bytes, out);
}

/** Serializes one AgentMessage exactly as the reference implementations do (§5.2). */
export function encodeAgentMessage(input: EncodeInput): Uint8Array {
  const payload = input.payload ?? EMPTY;
  const out = new Uint8Array(PAYLOAD_OFFSET + payload.length);
  encodeAgentMessageInto(out, input);
  return out;
}

/** Serializes one AgentMessage into `out`, which must be exactly PAYLOAD_OFFSET + payload bytes long. */
export function encodeAgentMessageInto(out: Uint8Array, input: EncodeInput): void {
  const payload = input.payload ?? EMPTY;
  if (out.length !== PAYLOAD_OFFSET + payload.length) {
    throw new RangeError(`message buffer of ${out.length} bytes for a ${payload.length}-byte payload`);
  }
  writeHeader(out, input, payload.length);
  out.set(payload, PAYLOAD_OFFSET);
  sha256Into(payload, out.subarray(80, 112));
}

/**
 * Writes the 120-byte header of a message whose `payloadLength` payload bytes go at PAYLOAD_OFFSET; the
 * digest (bytes 80-111) is left to the caller, who hashes the payload once it is in place.
 */
export function writeHeader(
  out: Uint8Array,
  input: Omit<EncodeInput, "payload">,
  payloadLength: number,
): void {
  const type = messageTypeBytes(input.messageType);
  const view = new DataView(out.buffer, out.byteOffset, PAYLOAD_OFFSET);
  view.setUint32(0, HEADER_LENGTH);
  out.set(type, 4);
  out.fill(0x20, 4 + type.length, 4 + MESSAGE_TYPE_LENGTH);
  view.setUint32(36, input.schemaVersion ?? 1);
  writeUint64(view, 40, input.createdDate ?? Date.now());
  writeInt64(view, 48, input.sequenceNumber);
  const flags = input.flags ?? 0n;
  if (flags !== 0n) view.setBigUint64(56, flags);
  if (input.messageId === undefined) writeRandomWireUuid(out, 64);
  else writeWireUuid(input.messageId, out, 64);
  view.setUint32(112, input.payloadType);
  view.setUint32(116, payloadLength);
}

const EMPTY = new Uint8Array(0);

const TWO_32 = 2 ** 32;

/** Writes a non-negative integer as uint64 BE without a BigInt for the common (safe integer) case. */
function writeUint64(view: DataView, offset: number, value: number): void {
  if (Number.isSafeInteger(value) && value >= 0) {
    view.setUint32(offset, Math.floor(value / TWO_32));
    view.setUint32(offset + 4, value >>> 0);
  } else {
    view.setBigUint64(offset, BigInt(value));
  }
}

function writeInt64(view: DataView, offset: number, value: number): void {
  if (Number.isSafeInteger(value) && value >= 0) writeUint64(view, offset, value);
  else view.setBigInt64(offset, BigInt(value));
}

/** Same value as Number(view.getBigUint64()) (one rounding), without allocating a BigInt. */
function readUint64(view: DataView, offset: number): number {
  return view.getUint32(offset) * TWO_32 + view.getUint32(offset + 4);
}

function readInt64(view: DataView, offset: number): number {
  return view.getInt32(offset) * TWO_32 + view.getUint32(offset + 4);
}

/** Random bytes drawn in bulk: one getRandomValues per 256 message ids instead of one randomUUID each. */
const randomPool = new Uint8Array(4096);
let randomOffset = randomPool.length;

/** A random v4 UUID written straight into Session Manager's wire order (halves swapped, §5.3). */
function writeRandomWireUuid(out: Uint8Array, offset: number): void {
  if (randomOffset + 16 > randomPool.length) {
    crypto.getRandomValues(randomPool);
    randomOffset = 0;
  }
  out.set(randomPool.subarray(randomOffset, randomOffset + 16), offset);
  randomOffset += 16;
  // Canonical byte 6 (version) is wire byte 14, canonical byte 8 (variant) is wire byte 0.
  out[offset + 14] = ((out[offset + 14] as number) & 0x0f) | 0x40;
  out[offset] = ((out[offset] as number) & 0x3f) | 0x80;
}

export class DecodeError extends Error {
  override readonly name = "DecodeError";
}

export interface DecodeOptions {
  /** Check the SHA-256 payload digest, as the reference client does. @default true */
  readonly verifyDigest?: boolean;
}

/** Publication control messages come from MGS without valid header fields; they are never validated (§5.4). */
function isPublicationControl(type: string): boolean {
  return type === MessageType.StartPublication || type === MessageType.PausePublication;
}

/** Strips NUL and whitespace on both ends so space- and NUL-padded senders interoperate (§5.4, §12.9). */
function trimMessageType(raw: Uint8Array): string {
  const known = knownMessageType(raw);
  if (known !== undefined) return known;
  let start = 0;
  let end = raw.length;
  const isPad = (b: number | undefined) => b === 0x00 || b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  while (start < end && isPad(raw[start])) start++;
  while (end > start && isPad(raw[end - 1])) end--;
  return latin1.decode(raw.subarray(start, end));
}

/** The data-path types, space padded as the agent and the plugin send them: matched without a string decode. */
const KNOWN_TYPES = [MessageType.OutputStreamData, MessageType.Acknowledge, MessageType.InputStreamData].map(
  (type) => ({ type, bytes: ascii.encode(type.padEnd(MESSAGE_TYPE_LENGTH, " ")) }),
);

function knownMessageType(raw: Uint8Array): string | undefined {
  next: for (const { type, bytes } of KNOWN_TYPES) {
    for (let i = 0; i < MESSAGE_TYPE_LENGTH; i++) if (raw[i] !== bytes[i]) continue next;
    return type;
  }
  return undefined;
}

/** Header flags without a BigInt allocation for the values the protocol uses (0-3). */
const SMALL_FLAGS = [0n, 1n, 2n, 3n];

function readFlags(view: DataView, offset: number): bigint {
  if (view.getUint32(offset) === 0) {
    const small = SMALL_FLAGS[view.getUint32(offset + 4)];
    if (small !== undefined) return small;
  }
  return view.getBigUint64(offset);
}

/** Scratch space for digest checks (decoding is synchronous, so one buffer serves every call). */
const digestScratch = new Uint8Array(32);

const latin1 = new TextDecoder("latin1");

/**
 * Parses and validates one frame. Throws DecodeError (never anything else) for a frame that must be
 * dropped: too short, inconsistent lengths, missing type/date, or a digest mismatch.
 */
export function decodeAgentMessage(frame: Uint8Array, options: DecodeOptions = {}): AgentMessage {
  if (frame.length < PAYLOAD_OFFSET) {
    throw new DecodeError(`frame of ${frame.length} bytes is shorter than the ${PAYLOAD_OFFSET}-byte header`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const headerLength = view.getUint32(0);
  const messageType = trimMessageType(frame.subarray(4, 4 + MESSAGE_TYPE_LENGTH));
  const schemaVersion = view.getUint32(36);
  const createdDate = readUint64(view, 40);
  const sequenceNumber = readInt64(view, 48);
  const flags = readFlags(view, 56);
  const messageId = readWireUuid(frame, 64);
  const payloadType = view.getUint32(112);

  if (isPublicationControl(messageType)) {
    return {
      messageType,
      schemaVersion,
      createdDate,
      sequenceNumber,
      flags,
      messageId,
      payloadType,
      payload: new Uint8Array(0),
    };
  }
  if (headerLength !== HEADER_LENGTH) {
    throw new DecodeError(`header length ${headerLength}, expected ${HEADER_LENGTH}`);
  }
  if (messageType.length === 0) throw new DecodeError("empty message type");
  if (createdDate === 0) throw new DecodeError("created date is zero");
  const payloadLength = view.getUint32(116);
  if (PAYLOAD_OFFSET + payloadLength !== frame.length) {
    throw new DecodeError(
      `payload length ${payloadLength} does not match the ${frame.length - PAYLOAD_OFFSET} bytes after the header`,
    );
  }
  const payload = frame.subarray(PAYLOAD_OFFSET, PAYLOAD_OFFSET + payloadLength);
  if (options.verifyDigest !== false && payloadLength !== 0) {
    sha256Into(payload, digestScratch);
    for (let i = 0; i < 32; i++) {
      if (digestScratch[i] !== frame[80 + i]) throw new DecodeError("payload digest mismatch");
    }
  }
  return { messageType, schemaVersion, createdDate, sequenceNumber, flags, messageId, payloadType, payload };
}

/** Acknowledge payload (§6.3), in the reference implementation's field order. */
export interface AcknowledgeContent {
  readonly AcknowledgedMessageType: string;
  readonly AcknowledgedMessageId: string;
  readonly AcknowledgedMessageSequenceNumber: number;
  readonly IsSequentialMessage: boolean;
}

/** Builds the acknowledge frame for a received stream-data message: seq 0, flags 3, payload type 0. */
export function encodeAcknowledge(
  acked: Pick<AgentMessage, "messageType" | "messageId" | "sequenceNumber">,
  overrides: { createdDate?: number; messageId?: string } = {},
): Uint8Array {
  const content: AcknowledgeContent = {
    AcknowledgedMessageType: acked.messageType,
    AcknowledgedMessageId: acked.messageId,
    AcknowledgedMessageSequenceNumber: acked.sequenceNumber,
    IsSequentialMessage: true,
  };
  return encodeAgentMessage({
    messageType: MessageType.Acknowledge,
    sequenceNumber: 0,
    flags: MessageFlags.Ack,
    payloadType: PayloadType.None,
    payload: ascii.encode(JSON.stringify(content)),
    ...overrides,
  });
}

/** Parses an acknowledge payload; throws DecodeError on garbage. */
export function parseAcknowledge(payload: Uint8Array): AcknowledgeContent {
  const value = parseJsonPayload(payload);
  const seq = value.AcknowledgedMessageSequenceNumber;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) {
    throw new DecodeError("acknowledge without a valid AcknowledgedMessageSequenceNumber");
  }
  // Type and id are informational only: senders match acks by sequence number (§6.3).
  return {
    AcknowledgedMessageType: String(value.AcknowledgedMessageType ?? ""),
    AcknowledgedMessageId: String(value.AcknowledgedMessageId ?? ""),
    AcknowledgedMessageSequenceNumber: seq,
    IsSequentialMessage: value.IsSequentialMessage !== false,
  };
}

/**
 * The sequence number an acknowledge payload acknowledges (the only field senders use, §6.3). Acks arrive
 * once per message sent (~1 000 per MB uploaded), so the exact form every agent and plugin marshals (Go's
 * json.Marshal of the fields in TV-2 order) is read with a byte scan; anything else goes through
 * parseAcknowledge's JSON parse and validation. Throws DecodeError on garbage.
 */
export function acknowledgedSequence(payload: Uint8Array): number {
  const fast = scanAcknowledge(payload);
  return fast >= 0 ? fast : parseAcknowledge(payload).AcknowledgedMessageSequenceNumber;
}

const ACK_TYPE_KEY = ascii.encode('{"AcknowledgedMessageType":"');
const ACK_ID_KEY = ascii.encode('","AcknowledgedMessageId":"');
const ACK_SEQ_KEY = ascii.encode('","AcknowledgedMessageSequenceNumber":');
const ACK_TAIL_TRUE = ascii.encode(',"IsSequentialMessage":true}');
const ACK_TAIL_FALSE = ascii.encode(',"IsSequentialMessage":false}');

/** The sequence number when `payload` is exactly the marshalled form with plain strings, else -1. */
function scanAcknowledge(payload: Uint8Array): number {
  let i = matchBytes(payload, 0, ACK_TYPE_KEY);
  if (i < 0) return -1;
  while (i < payload.length && isTypeByte(payload[i] as number)) i++;
  i = matchBytes(payload, i, ACK_ID_KEY);
  if (i < 0) return -1;
  while (i < payload.length && isIdByte(payload[i] as number)) i++;
  i = matchBytes(payload, i, ACK_SEQ_KEY);
  if (i < 0) return -1;
  const digitsStart = i;
  let seq = 0;
  while (i < payload.length && i - digitsStart < 16) {
    const d = (payload[i] as number) - 0x30;
    if (d < 0 || d > 9) break;
    seq = seq * 10 + d;
    i++;
  }
  const digits = i - digitsStart;
  // JSON numbers have no leading zeros; more than 15 digits may not be a safe integer: leave both to JSON.
  if (digits === 0 || digits > 15 || (digits > 1 && payload[digitsStart] === 0x30)) return -1;
  const end = Math.max(matchBytes(payload, i, ACK_TAIL_TRUE), matchBytes(payload, i, ACK_TAIL_FALSE));
  return end === payload.length ? seq : -1;
}

/** Offset after `expected` when `bytes` holds it at `at`, else -1. */
function matchBytes(bytes: Uint8Array, at: number, expected: Uint8Array): number {
  if (at < 0 || at + expected.length > bytes.length) return -1;
  for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return -1;
  return at + expected.length;
}

/** [A-Za-z0-9_]: message type characters that need no JSON escaping. */
function isTypeByte(b: number): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x5f;
}

/** [0-9A-Fa-f-]: UUID characters. */
function isIdByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46) || b === 0x2d;
}

/** Encodes a flag payload (4-byte BE uint32). */
export function encodeFlag(flag: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, flag);
  return out;
}

/** Decodes a flag payload; throws DecodeError unless it is exactly 4 bytes. */
export function decodeFlag(payload: Uint8Array): number {
  if (payload.length !== 4) throw new DecodeError(`flag payload of ${payload.length} bytes, expected 4`);
  return new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0);
}

/** Parses a JSON control payload into an object; throws DecodeError on anything else. */
export function parseJsonPayload(payload: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw new DecodeError("payload is not valid UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DecodeError("payload JSON is not an object");
  }
  return value as Record<string, unknown>;
}
