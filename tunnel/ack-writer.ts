/**
 * Acknowledge frames on the hot path: one per received data message (~25 000/s at 25 MB/s). Same bytes as
 * codec.ts's encodeAcknowledge, but the JSON is built from a template instead of JSON.stringify when
 * nothing in it needs escaping (always, for the message types and ids we ack).
 */
import {
  type AgentMessage,
  encodeAcknowledge,
  MessageFlags,
  MessageType,
  PAYLOAD_OFFSET,
  PayloadType,
  sha256Into,
  writeHeader,
} from "./codec.ts";

const SAFE = /^[A-Za-z0-9_-]*$/;
const ascii = new TextEncoder();

export function ackPayload(
  acked: Pick<AgentMessage, "messageType" | "messageId" | "sequenceNumber">,
): Uint8Array | undefined {
  const json = ackJson(acked);
  return json === undefined ? undefined : ascii.encode(json);
}

/** The ack's JSON text when nothing in it needs escaping (it is then ASCII: one byte per character). */
function ackJson(
  acked: Pick<AgentMessage, "messageType" | "messageId" | "sequenceNumber">,
): string | undefined {
  if (
    !SAFE.test(acked.messageType) ||
    !SAFE.test(acked.messageId) ||
    !Number.isSafeInteger(acked.sequenceNumber)
  ) {
    return undefined;
  }
  return `{"AcknowledgedMessageType":"${acked.messageType}","AcknowledgedMessageId":"${acked.messageId}","AcknowledgedMessageSequenceNumber":${acked.sequenceNumber},"IsSequentialMessage":true}`;
}

const ACK_HEADER = {
  messageType: MessageType.Acknowledge,
  sequenceNumber: 0,
  flags: MessageFlags.Ack,
  payloadType: PayloadType.None,
} as const;

/**
 * The acknowledge frame for a received stream-data message (seq 0, flags 3, payload type 0): the JSON is
 * written straight into the frame and hashed in place (one allocation per ack).
 */
export function writeAcknowledge(
  acked: Pick<AgentMessage, "messageType" | "messageId" | "sequenceNumber">,
): Uint8Array {
  const json = ackJson(acked);
  if (json === undefined) return encodeAcknowledge(acked);
  const out = new Uint8Array(PAYLOAD_OFFSET + json.length);
  writeHeader(out, ACK_HEADER, json.length);
  const payload = out.subarray(PAYLOAD_OFFSET);
  ascii.encodeInto(json, payload);
  sha256Into(payload, out.subarray(80, 112));
  return out;
}
