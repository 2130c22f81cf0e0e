import { describe, expect, test } from "bun:test";
import type { AgentMessage } from "./codec.ts";
import { PayloadType } from "./codec.ts";
import { ReliableReceiver } from "./reliable-receiver.ts";

function msg(seq: number, payloadType: number = PayloadType.Output): AgentMessage {
  return {
    messageType: "output_stream_data",
    schemaVersion: 1,
    createdDate: 1,
    sequenceNumber: seq,
    flags: 0n,
    messageId: "00112233-4455-6677-8899-aabbccddeeff",
    payloadType,
    payload: Uint8Array.of(seq),
  };
}

function setup(capacityBytes?: number) {
  const events: string[] = [];
  let ready = true;
  const receiver = new ReliableReceiver({
    deliver: (m) => {
      if (!ready) return false;
      events.push(`deliver ${m.sequenceNumber}`);
      return true;
    },
    ack: (m) => events.push(`ack ${m.sequenceNumber}`),
    ...(capacityBytes === undefined ? {} : { capacityBytes }),
  });
  return { receiver, events, setReady: (r: boolean) => (ready = r) };
}

describe("ReliableReceiver", () => {
  test("in-order messages are delivered, then acked, and expected advances", () => {
    const { receiver, events } = setup();
    expect(receiver.receive(msg(0))).toBe("delivered");
    expect(receiver.receive(msg(1))).toBe("delivered");
    expect(events).toEqual(["deliver 0", "ack 0", "deliver 1", "ack 1"]);
    expect(receiver.expected).toBe(2);
  });

  test("handshake messages are acked before they are processed", () => {
    const { receiver, events } = setup();
    receiver.receive(msg(0, PayloadType.HandshakeRequest));
    expect(events).toEqual(["ack 0", "deliver 0"]);
  });

  test("early arrivals are acked at once, held, and drained in order when the gap fills", () => {
    const { receiver, events } = setup();
    expect(receiver.receive(msg(2))).toBe("buffered");
    expect(receiver.receive(msg(1))).toBe("buffered");
    expect(events).toEqual(["ack 2", "ack 1"]);
    events.length = 0;
    expect(receiver.receive(msg(0))).toBe("delivered");
    expect(events).toEqual(["deliver 0", "ack 0", "deliver 1", "deliver 2"]);
    expect(receiver.expected).toBe(3);
    expect(receiver.heldCount).toBe(0);
  });

  test("duplicates are re-acked and not delivered again", () => {
    const { receiver, events } = setup();
    receiver.receive(msg(0));
    events.length = 0;
    expect(receiver.receive(msg(0))).toBe("duplicate");
    expect(events).toEqual(["ack 0"]);
    receiver.receive(msg(3));
    events.length = 0;
    expect(receiver.receive(msg(3))).toBe("buffered"); // duplicate early arrival: acked again, stored once
    expect(events).toEqual(["ack 3"]);
    expect(receiver.heldCount).toBe(1);
  });

  test("readiness gating: data that cannot be delivered is not acked and expected does not advance", () => {
    const { receiver, events, setReady } = setup();
    setReady(false);
    expect(receiver.receive(msg(0))).toBe("held");
    expect(events).toEqual([]);
    expect(receiver.expected).toBe(0);
    // The peer retransmits; still not ready, still no ack.
    expect(receiver.receive(msg(0))).toBe("held");
    expect(events).toEqual([]);
    receiver.receive(msg(1)); // early arrival: acked, waits behind the head
    expect(events).toEqual(["ack 1"]);
    setReady(true);
    receiver.drain();
    expect(events).toEqual(["ack 1", "deliver 0", "ack 0", "deliver 1"]);
    expect(receiver.expected).toBe(2);
  });

  test("buffered (already acked) messages also wait for readiness instead of being processed blindly", () => {
    const { receiver, events, setReady } = setup();
    receiver.receive(msg(1));
    receiver.receive(msg(2));
    setReady(false);
    events.length = 0;
    receiver.receive(msg(0));
    expect(events).toEqual([]);
    setReady(true);
    receiver.drain();
    expect(events).toEqual(["deliver 0", "ack 0", "deliver 1", "deliver 2"]);
  });

  test("a full early-arrival buffer drops silently (no ack), memory stays bounded", () => {
    const { receiver, events } = setup(2);
    receiver.receive(msg(5));
    receiver.receive(msg(6));
    expect(receiver.receive(msg(7))).toBe("dropped");
    expect(events).toEqual(["ack 5", "ack 6"]);
    expect(receiver.heldCount).toBe(2);
  });

  test("the bound is in bytes, not messages: 20 000 one-byte early arrivals are all kept and acked", () => {
    const { receiver, events } = setup();
    for (let seq = 1; seq <= 20_000; seq++) expect(receiver.receive(msg(seq))).toBe("buffered");
    expect(receiver.heldBytes).toBe(20_000);
    expect(events).toHaveLength(20_000);
    receiver.receive(msg(0));
    expect(receiver.expected).toBe(20_001);
    expect(receiver.heldBytes).toBe(0);
  });

  test("the default bound covers the agent's worst case: 100 000 messages of 1024 bytes", () => {
    const { receiver } = setup();
    const payload = new Uint8Array(1024);
    for (let seq = 1; seq <= 100_000; seq++) {
      expect(receiver.receive({ ...msg(seq), payload })).toBe("buffered");
    }
    expect(receiver.receive({ ...msg(100_001), payload })).toBe("dropped");
    expect(receiver.heldBytes).toBe(100_000 * 1024);
  });
});
