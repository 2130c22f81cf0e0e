import { describe, expect, test } from "bun:test";
import {
  DecodeError,
  decodeAgentMessage,
  decodeFlag,
  encodeAcknowledge,
  encodeAgentMessage,
  encodeFlag,
  FlagValue,
  MessageFlags,
  MessageType,
  PayloadType,
  parseAcknowledge,
  sha256,
} from "./codec.ts";
import { readWireUuid, uuidToBytes, writeWireUuid } from "./uuid.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/[\s|]/g, ""), "hex"));

describe("test vectors (ssm-session-protocol.md §15)", () => {
  test("TV-1: UUID halves are swapped on the wire", () => {
    const uuid = "dd01e56b-ff48-483e-a508-b5f073f31b16";
    expect(hex(uuidToBytes(uuid))).toBe("dd01e56bff48483ea508b5f073f31b16");
    const out = new Uint8Array(16);
    writeWireUuid(uuid, out, 0);
    expect(hex(out)).toBe("a508b5f073f31b16dd01e56bff48483e");
    expect(readWireUuid(out, 0)).toBe(uuid);
  });

  test("TV-2: acknowledge message, 296 bytes", () => {
    const frame = encodeAcknowledge(
      {
        messageType: "output_stream_data",
        messageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
        sequenceNumber: 0,
      },
      { createdDate: 1503434274948, messageId: "00112233-4455-6677-8899-aabbccddeeff" },
    );
    expect(frame.length).toBe(296);
    const expectedPayload =
      '{"AcknowledgedMessageType":"output_stream_data","AcknowledgedMessageId":"dd01e56b-ff48-483e-a508-b5f073f31b16","AcknowledgedMessageSequenceNumber":0,"IsSequentialMessage":true}';
    expect(new TextDecoder().decode(frame.subarray(120))).toBe(expectedPayload);
    expect(hex(frame.subarray(0, 120))).toBe(
      hex(
        fromHex(`00000074 61636b6e 6f776c65 64676520
                 20202020 20202020 20202020 20202020
                 20202020 00000001 0000015e 0baa7884
                 00000000 00000000 00000000 00000003
                 8899aabb ccddeeff 00112233 44556677
                 713a0a17 057de630 213f7292 907ce384
                 62812ea2 13a29366 f537f68c 6ab60e85
                 00000000 000000b0`),
      ),
    );
  });

  test("TV-3: TerminateSession flag, 124 bytes", () => {
    const frame = encodeAgentMessage({
      messageType: MessageType.InputStreamData,
      createdDate: 1503434274948,
      sequenceNumber: 5,
      flags: 0n,
      messageId: "00112233-4455-6677-8899-aabbccddeeff",
      payloadType: PayloadType.Flag,
      payload: encodeFlag(FlagValue.TerminateSession),
    });
    expect(hex(frame)).toBe(
      hex(
        fromHex(`00000074 696e7075 745f7374 7265616d
                 5f646174 61202020 20202020 20202020
                 20202020 00000001 0000015e 0baa7884
                 00000000 00000005 00000000 00000000
                 8899aabb ccddeeff 00112233 44556677
                 433ebf5b c03dffa3 85366732 07a21281
                 612cef5f aa9bc7a4 d5b9be2f db12cf1a
                 0000000a 00000004 00000002`),
      ),
    );
  });

  test("TV-4: output_stream_data carrying 'hi', 122 bytes, round trip", () => {
    const frame = encodeAgentMessage({
      messageType: MessageType.OutputStreamData,
      createdDate: 1700000000000,
      sequenceNumber: 1,
      messageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
      payloadType: PayloadType.Output,
      payload: new TextEncoder().encode("hi"),
    });
    expect(hex(frame)).toBe(
      hex(
        fromHex(`00000074 6f757470 75745f73 74726561
                 6d5f6461 74612020 20202020 20202020
                 20202020 00000001 0000018b cfe56800
                 00000000 00000001 00000000 00000000
                 a508b5f0 73f31b16 dd01e56b ff48483e
                 8f434346 648f6b96 df89dda9 01c5176b
                 10a6d839 61dd3c1a c88b59b2 dc327aa4
                 00000001 00000002 6869`),
      ),
    );
    const decoded = decodeAgentMessage(frame);
    expect(decoded).toMatchObject({
      messageType: "output_stream_data",
      schemaVersion: 1,
      createdDate: 1700000000000,
      sequenceNumber: 1,
      flags: 0n,
      messageId: "dd01e56b-ff48-483e-a508-b5f073f31b16",
      payloadType: 1,
    });
    expect(new TextDecoder().decode(decoded.payload)).toBe("hi");
  });

  test("TV-8: digest of the empty payload and flag payloads", () => {
    expect(hex(sha256(new Uint8Array(0)))).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
    expect(hex(encodeFlag(FlagValue.DisconnectToPort))).toBe("00000001");
    expect(hex(encodeFlag(FlagValue.TerminateSession))).toBe("00000002");
    expect(hex(encodeFlag(FlagValue.ConnectToPortError))).toBe("00000003");
    expect(decodeFlag(fromHex("00000003"))).toBe(3);
  });
});

describe("decoder validation (§5.4)", () => {
  const valid = () =>
    encodeAgentMessage({
      messageType: MessageType.OutputStreamData,
      sequenceNumber: 7,
      payloadType: PayloadType.Output,
      payload: new TextEncoder().encode("payload"),
    });

  test("rejects a frame shorter than the header", () => {
    expect(() => decodeAgentMessage(valid().subarray(0, 119))).toThrow(DecodeError);
  });

  test("rejects a payload length that disagrees with the frame", () => {
    const frame = valid();
    new DataView(frame.buffer).setUint32(116, 3);
    expect(() => decodeAgentMessage(frame)).toThrow(/payload length/);
    expect(() => decodeAgentMessage(valid().subarray(0, 125))).toThrow(/payload length/);
  });

  test("rejects a corrupted payload unless digest checks are off (agent behaviour)", () => {
    const frame = valid();
    frame[121] = (frame[121] ?? 0) ^ 0xff;
    expect(() => decodeAgentMessage(frame)).toThrow(/digest/);
    expect(decodeAgentMessage(frame, { verifyDigest: false }).sequenceNumber).toBe(7);
  });

  test("rejects a wrong header length, an empty type and a zero date", () => {
    const badHeader = valid();
    new DataView(badHeader.buffer).setUint32(0, 120);
    expect(() => decodeAgentMessage(badHeader)).toThrow(/header length/);
    const emptyType = valid();
    emptyType.fill(0x20, 4, 36);
    expect(() => decodeAgentMessage(emptyType)).toThrow(/empty message type/);
    const zeroDate = valid();
    new DataView(zeroDate.buffer).setBigUint64(40, 0n);
    expect(() => decodeAgentMessage(zeroDate)).toThrow(/created date/);
  });

  test("accepts NUL-padded message types", () => {
    const frame = valid();
    frame.fill(0, 4 + "output_stream_data".length, 36);
    expect(decodeAgentMessage(frame).messageType).toBe("output_stream_data");
  });

  test("accepts publication control messages without validating their header", () => {
    const frame = new Uint8Array(120);
    frame.set(new TextEncoder().encode("pause_publication"), 4);
    expect(decodeAgentMessage(frame).messageType).toBe("pause_publication");
  });

  test("acknowledge payloads parse, garbage does not", () => {
    const ack = decodeAgentMessage(
      encodeAcknowledge({
        messageType: "input_stream_data",
        messageId: crypto.randomUUID(),
        sequenceNumber: 42,
      }),
    );
    expect(ack.flags).toBe(MessageFlags.Ack);
    expect(ack.sequenceNumber).toBe(0);
    expect(parseAcknowledge(ack.payload).AcknowledgedMessageSequenceNumber).toBe(42);
    expect(() => parseAcknowledge(new TextEncoder().encode("{nope"))).toThrow(DecodeError);
    expect(() =>
      parseAcknowledge(new TextEncoder().encode('{"AcknowledgedMessageSequenceNumber":-1}')),
    ).toThrow(DecodeError);
    expect(() => decodeFlag(new Uint8Array(3))).toThrow(DecodeError);
  });

  test("refuses to encode a message type longer than 32 bytes", () => {
    expect(() =>
      encodeAgentMessage({ messageType: "x".repeat(33), sequenceNumber: 0, payloadType: 0 }),
    ).toThrow(/1-32 bytes/);
  });
});
