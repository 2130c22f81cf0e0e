import { expect, test } from "bun:test";
import { ackPayload, writeAcknowledge } from "./ack-writer.ts";
import { decodeAgentMessage, encodeAcknowledge, parseAcknowledge } from "./codec.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("the templated ack payload is byte-identical to JSON.stringify's (TV-2 field order)", () => {
  for (const seq of [0, 1, 42, 1234567, 2 ** 40]) {
    for (const type of ["output_stream_data", "input_stream_data"]) {
      const acked = { messageType: type, messageId: crypto.randomUUID(), sequenceNumber: seq };
      const reference = decodeAgentMessage(encodeAcknowledge(acked)).payload;
      expect(hex(ackPayload(acked) as Uint8Array)).toBe(hex(reference));
      const frame = decodeAgentMessage(writeAcknowledge(acked));
      expect(frame.messageType).toBe("acknowledge");
      expect(frame.flags).toBe(3n);
      expect(frame.sequenceNumber).toBe(0);
      expect(frame.payloadType).toBe(0);
      expect(parseAcknowledge(frame.payload).AcknowledgedMessageSequenceNumber).toBe(seq);
    }
  }
});

test("anything that would need escaping falls back to JSON.stringify", () => {
  const odd = { messageType: 'we"ird\\type', messageId: "x", sequenceNumber: 1 };
  expect(ackPayload(odd)).toBeUndefined();
  const frame = decodeAgentMessage(writeAcknowledge(odd));
  expect(JSON.parse(new TextDecoder().decode(frame.payload)).AcknowledgedMessageType).toBe('we"ird\\type');
});
