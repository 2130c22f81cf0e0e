import { describe, expect, test } from "bun:test";
import { encodeSmuxFrame, SmuxCmd, SmuxProtocolError } from "./smux-frame.ts";
import { SmuxClientSession } from "./smux-session.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function setup(keepaliveMs = 0) {
  const out: Uint8Array[] = [];
  const session = new SmuxClientSession({ output: (b) => out.push(b.slice()), keepaliveMs });
  const wire = () => Buffer.concat(out);
  return { session, out, wire };
}

function recorder() {
  const events: string[] = [];
  return {
    events,
    handler: {
      onData: (d: Uint8Array) => events.push(`data ${Buffer.from(d).toString()}`),
      onFin: () => events.push("fin"),
    },
  };
}

describe("SmuxClientSession", () => {
  test("TV-6: open, write 'hi', close emits exactly the reference bytes", () => {
    const { session, wire } = setup();
    const id = session.openStream(recorder().handler);
    expect(id).toBe(3);
    session.write(id, new TextEncoder().encode("hi"));
    session.closeStream(id);
    expect(hex(wire())).toBe("0100000003000000" + "01020200030000006869" + "0101000003000000");
  });

  test("stream ids go 3, 5, 7", () => {
    const { session } = setup();
    const h = recorder().handler;
    expect([session.openStream(h), session.openStream(h), session.openStream(h)]).toEqual([3, 5, 7]);
  });

  test("writes larger than 32768 bytes are split into several PSH frames", () => {
    const { session, wire } = setup();
    const id = session.openStream(recorder().handler);
    session.write(id, new Uint8Array(70_000).fill(1));
    const bytes = wire().subarray(8);
    const lengths: number[] = [];
    let offset = 0;
    while (offset < bytes.length) {
      const len = bytes.readUInt16LE(offset + 2);
      expect(bytes[offset + 1]).toBe(SmuxCmd.Psh);
      lengths.push(len);
      offset += 8 + len;
    }
    expect(lengths).toEqual([32768, 32768, 4464]);
  });

  test("frames split at arbitrary byte boundaries are reassembled; FIN ends the stream", () => {
    const { session, out } = setup();
    const a = recorder();
    const b = recorder();
    const sa = session.openStream(a.handler);
    const sb = session.openStream(b.handler);
    const stream = Buffer.concat([
      encodeSmuxFrame(SmuxCmd.Psh, sa, new TextEncoder().encode("hello")),
      encodeSmuxFrame(SmuxCmd.Nop, 0),
      encodeSmuxFrame(SmuxCmd.Psh, sb, new TextEncoder().encode("world")),
      encodeSmuxFrame(SmuxCmd.Fin, sa),
      encodeSmuxFrame(SmuxCmd.Psh, sa, new TextEncoder().encode("late")), // after FIN: discarded
      encodeSmuxFrame(SmuxCmd.Psh, 99, new TextEncoder().encode("unknown")), // unknown id: discarded
    ]);
    for (let i = 0; i < stream.length; i += 3) session.push(stream.subarray(i, i + 3));
    expect(a.events).toEqual(["data hello", "fin"]);
    expect(b.events).toEqual(["data world"]);
    expect(session.streamCount).toBe(1);
    // The agent's FIN is answered with ours (full close) and a later local close sends nothing more.
    const fins = () => out.filter((f) => f.length === 8 && f[1] === SmuxCmd.Fin).length;
    expect(fins()).toBe(1);
    session.closeStream(sa);
    expect(fins()).toBe(1);
  });

  test("a locally closed stream ignores later frames and sends FIN only once", () => {
    const { session, out } = setup();
    const a = recorder();
    const id = session.openStream(a.handler);
    session.closeStream(id);
    session.closeStream(id);
    session.push(encodeSmuxFrame(SmuxCmd.Psh, id, Uint8Array.of(1)));
    expect(a.events).toEqual([]);
    expect(out).toHaveLength(2); // SYN + one FIN
  });

  test("a wrong version byte is a protocol error", () => {
    const { session } = setup();
    expect(() => session.push(Uint8Array.of(2, 0, 0, 0, 3, 0, 0, 0))).toThrow(SmuxProtocolError);
  });

  test("keepalive sends NOP frames when on", async () => {
    const { session, wire } = setup(5);
    await Bun.sleep(30);
    session.close();
    const bytes = wire();
    expect(bytes.length).toBeGreaterThanOrEqual(16);
    expect(hex(bytes.subarray(0, 8))).toBe("0103000000000000");
    const after = bytes.length;
    await Bun.sleep(20);
    expect(wire().length).toBe(after); // close() stops it
  });
});
