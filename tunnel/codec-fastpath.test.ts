/** The codec's allocation-light paths (pooled random ids, BigInt-free 64-bit fields) give the same bytes. */
import { expect, test } from "bun:test";
import { decodeAgentMessage, encodeAgentMessage } from "./codec.ts";
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
