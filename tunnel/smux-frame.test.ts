import { describe, expect, test } from "bun:test";
import { encodeSmuxFrame, SmuxCmd, SmuxFrameDecoder, SmuxProtocolError } from "./smux-frame.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("smux v1 frames (TV-6)", () => {
  test("encodes SYN, PSH, FIN and NOP byte for byte", () => {
    expect(hex(encodeSmuxFrame(SmuxCmd.Syn, 3))).toBe("0100000003000000");
    expect(hex(encodeSmuxFrame(SmuxCmd.Psh, 3, new TextEncoder().encode("hi")))).toBe("01020200030000006869");
    expect(hex(encodeSmuxFrame(SmuxCmd.Fin, 3))).toBe("0101000003000000");
    expect(hex(encodeSmuxFrame(SmuxCmd.Nop, 0))).toBe("0103000000000000");
  });

  test("decodes the 26-byte open/write/close sequence split at every possible point", () => {
    const wire = Buffer.from("0100000003000000010202000300000068690101000003000000", "hex");
    for (let split = 0; split <= wire.length; split++) {
      const decoder = new SmuxFrameDecoder();
      const frames = [...decoder.push(wire.subarray(0, split)), ...decoder.push(wire.subarray(split))];
      expect(frames.map((f) => [f.cmd, f.streamId, hex(f.data)])).toEqual([
        [SmuxCmd.Syn, 3, ""],
        [SmuxCmd.Psh, 3, "6869"],
        [SmuxCmd.Fin, 3, ""],
      ]);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  test("a 32 KiB frame fed in 1024-byte pieces through ONE reused buffer comes out whole and exact", () => {
    const data = Uint8Array.from({ length: 32768 }, (_, i) => (i * 7) & 0xff);
    const wire = Buffer.concat([encodeSmuxFrame(SmuxCmd.Psh, 5, data), encodeSmuxFrame(SmuxCmd.Fin, 5)]);
    const decoder = new SmuxFrameDecoder();
    const reused = new Uint8Array(1024);
    const frames = [];
    for (let offset = 0; offset < wire.length; offset += 1024) {
      const n = Math.min(1024, wire.length - offset);
      reused.set(wire.subarray(offset, offset + n));
      frames.push(...decoder.push(reused.subarray(0, n)));
      reused.fill(0xee); // the decoder must not have kept a view of it
      expect(decoder.bufferedBytes).toBeLessThanOrEqual(8 + 32768);
    }
    expect(frames.map((f) => [f.cmd, f.streamId, f.data.length])).toEqual([
      [SmuxCmd.Psh, 5, 32768],
      [SmuxCmd.Fin, 5, 0],
    ]);
    expect(hex(frames[0]?.data ?? new Uint8Array())).toBe(hex(data));
    expect(decoder.bufferedBytes).toBe(0);
  });

  test("reads no data for SYN/FIN/NOP even when the length field is non-zero", () => {
    const decoder = new SmuxFrameDecoder();
    const frames = decoder.push(Buffer.from("0100050003000000" + "0103000000000000", "hex"));
    expect(frames.map((f) => f.cmd)).toEqual([SmuxCmd.Syn, SmuxCmd.Nop]);
  });

  test("a wrong version or unknown command is a protocol error that sticks", () => {
    const decoder = new SmuxFrameDecoder();
    expect(() => decoder.push(Buffer.from("0200000003000000", "hex"))).toThrow(SmuxProtocolError);
    expect(() => decoder.push(Buffer.from("0100000003000000", "hex"))).toThrow(SmuxProtocolError);
    expect(() => new SmuxFrameDecoder().push(Buffer.from("0104080003000000", "hex"))).toThrow(
      /unknown smux command 4/,
    );
  });

  test("TV-7: v2 UPD carries exactly 8 data bytes", () => {
    const decoder = new SmuxFrameDecoder(2);
    const [frame] = decoder.push(Buffer.from("0204080003000000" + "02000000" + "00000100", "hex"));
    expect(frame?.cmd).toBe(SmuxCmd.Upd);
    expect(hex(frame?.data ?? new Uint8Array())).toBe("0200000000000100");
  });

  test("refuses to encode more data than a header can describe", () => {
    expect(() => encodeSmuxFrame(SmuxCmd.Psh, 3, new Uint8Array(65536))).toThrow(RangeError);
  });
});
