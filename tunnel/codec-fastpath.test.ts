/** The codec's allocation-light paths (pooled random ids, BigInt-free 64-bit fields) give the same bytes. */
import { expect, test } from "bun:test";
import {
  acknowledgedSequence,
  DecodeError,
  decodeAgentMessage,
  encodeAgentMessage,
  parseAcknowledge,
} from "./codec.ts";
import { readWireUuid, uuidToBytes } from "./uuid.ts";

test("generated MessageIds are distinct RFC 4122 v4 UUIDs that survive the wire round trip", () => {
  const ids = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const frame = encodeAgentMessage({ messageType: "input_stream_data", sequenceNumber: i, payloadType: 1 });
    const id = decodeAgentMessage(frame).messageId;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    ids.add(id);
  }
  expect(ids.size).toBe(2000);
});

test("64-bit fields match the BigInt encoding for small, large and negative values", () => {
  for (const [date, seq] of [
    [1, 0],
    [1503434274948, 5],
    [2 ** 53 - 1, 2 ** 40 + 3],
    [1700000000000, -1],
    [1700000000000, -(2 ** 40)],
  ] as const) {
    const frame = encodeAgentMessage({
      messageType: "output_stream_data",
      sequenceNumber: seq,
      payloadType: 1,
      createdDate: date,
      messageId: "00112233-4455-6677-8899-aabbccddeeff",
    });
    const view = new DataView(frame.buffer);
    expect(view.getBigUint64(40)).toBe(BigInt(date));
    expect(view.getBigInt64(48)).toBe(BigInt(seq));
    const decoded = decodeAgentMessage(frame);
    expect(decoded.createdDate).toBe(date);
    expect(decoded.sequenceNumber).toBe(seq);
  }
});

test("readWireUuid inverts the half swap for any bytes", () => {
  const canonical = uuidToBytes("dd01e56b-ff48-483e-a508-b5f073f31b16");
  const wire = new Uint8Array(20);
  wire.set(canonical.subarray(8), 2);
  wire.set(canonical.subarray(0, 8), 10);
  expect(readWireUuid(wire, 2)).toBe("dd01e56b-ff48-483e-a508-b5f073f31b16");
});

test("acknowledgedSequence reads the marshalled ack form by scan and everything else like parseAcknowledge", () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);
  const ack = (type: string, id: string, seq: string, sequential = "true") =>
    utf8(
      `{"AcknowledgedMessageType":"${type}","AcknowledgedMessageId":"${id}","AcknowledgedMessageSequenceNumber":${seq},"IsSequentialMessage":${sequential}}`,
    );
  const id = "dd01e56b-ff48-483e-a508-b5f073f31b16";
  for (const seq of [0, 7, 1024, 2 ** 40, 2 ** 53 - 1]) {
    expect(acknowledgedSequence(ack("input_stream_data", id, String(seq)))).toBe(seq);
    expect(acknowledgedSequence(ack("input_stream_data", id, String(seq), "false"))).toBe(seq);
  }
  // Valid JSON in other shapes goes through the JSON parser and gives the same answer.
  expect(acknowledgedSequence(ack("in\\u0070ut_stream_data", id, "12"))).toBe(12);
  expect(
    acknowledgedSequence(utf8(` {"AcknowledgedMessageSequenceNumber": 5, "IsSequentialMessage": true}`)),
  ).toBe(5);
  expect(acknowledgedSequence(ack("input_stream_data", id, "1e2"))).toBe(100);
  // Not a valid sequence number, or not JSON: a DecodeError, as from parseAcknowledge.
  for (const bad of [
    ack("input_stream_data", id, "-1"),
    ack("input_stream_data", id, "007"),
    ack("input_stream_data", id, "1.5"),
    ack("input_stream_data", id, "9007199254740993"),
    ack("input_stream_data", id, "12").subarray(0, 100),
    utf8("not json"),
  ]) {
    expect(() => acknowledgedSequence(bad)).toThrow(DecodeError);
    expect(() => parseAcknowledge(bad)).toThrow(DecodeError);
  }
});
