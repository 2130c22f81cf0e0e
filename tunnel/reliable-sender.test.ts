import { describe, expect, test } from "bun:test";
import { ReliableSender } from "./reliable-sender.ts";

function setup(options: { windowBytes?: number; maxAttempts?: number } = {}) {
  const clock = { t: 1000 };
  const wire: number[] = [];
  let connected = true;
  const sender = new ReliableSender({
    now: () => clock.t,
    transmit: (bytes) => {
      if (!connected) return false;
      wire.push(bytes[0] as number);
      return true;
    },
    ...options,
  });
  const send = (id: number) => sender.send(() => Uint8Array.of(id), 1);
  return { clock, wire, sender, send, setConnected: (c: boolean) => (connected = c) };
}

describe("ReliableSender", () => {
  test("numbers messages from 0 per direction and transmits them at once", () => {
    const { sender, send, wire } = setup();
    expect(send(10)).toBe(0);
    expect(send(11)).toBe(1);
    expect(wire).toEqual([10, 11]);
    expect(sender.unacked).toBe(2);
    expect(sender.nextSequence).toBe(2);
  });

  test("acks in and out of order: only messages sent before an acked one are fast-resent, and the timer always looks at the oldest outstanding one", () => {
    const { sender, send, wire, clock } = setup();
    for (let id = 0; id < 6; id++) send(id);
    wire.length = 0;
    sender.acknowledge(0); // in order: nothing older
    sender.acknowledge(1);
    expect(wire).toEqual([]);
    sender.acknowledge(3); // 2 was sent before 3 and is unacked: dropped on the way
    expect(wire).toEqual([2]);
    sender.acknowledge(2);
    sender.acknowledge(5); // 4 was sent before 5
    expect(wire).toEqual([2, 4]);
    sender.acknowledge(4);
    expect(sender.unacked).toBe(0);
    expect(sender.isAcked(4)).toBe(true);
    // Nothing outstanding: the tick has nothing to resend, however late it is.
    clock.t += 5000;
    sender.tick();
    expect(wire).toEqual([2, 4]);
    send(6);
    send(7);
    sender.acknowledge(7); // 6 resent at once
    expect(wire).toEqual([2, 4, 6, 7, 6]);
    clock.t += sender.rto + 1;
    sender.tick(); // 6 is the oldest: the timer resends it, not anything newer
    expect(wire).toEqual([2, 4, 6, 7, 6, 6]);
    sender.acknowledge(6);
    send(8);
    clock.t += sender.rto + 1;
    sender.tick();
    expect(wire.at(-1)).toBe(8);
    expect(sender.stats.fastResends).toBe(3);
    expect(sender.stats.timerResends).toBe(2);
  });

  test("RTO maths follows §7.2: RTTVAR from the old RTT, then RTT, then RTO with the 10 ms floor term", () => {
    const { sender, send, clock } = setup();
    expect(sender.rto).toBe(200);
    send(1);
    clock.t += 20; // sample 20
    expect(sender.acknowledge(0)).toBe(true);
    // RTTVAR = 0.75*0 + 0.25*|100-20| = 20; RTT = 0.875*100 + 0.125*20 = 90; RTO = 90 + max(10, 80) = 170
    expect(sender.rttVar).toBeCloseTo(20, 10);
    expect(sender.rtt).toBeCloseTo(90, 10);
    expect(sender.rto).toBeCloseTo(170, 10);
    send(2);
    clock.t += 90; // sample equal to RTT: RTTVAR shrinks, 4*RTTVAR = 60
    sender.acknowledge(1);
    expect(sender.rttVar).toBeCloseTo(15, 10);
    expect(sender.rtt).toBeCloseTo(90, 10);
    expect(sender.rto).toBeCloseTo(150, 10);
  });

  test("RTO uses the 10 ms granularity floor once RTTVAR is tiny, and is capped at 1 s", () => {
    const { sender, send, clock } = setup();
    for (let i = 0; i < 200; i++) {
      send(i);
      clock.t += 1;
      sender.acknowledge(i);
    }
    expect(sender.rtt).toBeLessThan(2);
    expect(sender.rto).toBeCloseTo(sender.rtt + 10, 0);
    for (let i = 200; i < 260; i++) {
      send(i);
      clock.t += 5000;
      sender.acknowledge(i);
    }
    expect(sender.rto).toBe(1000);
  });

  test("the oldest message is resent when no ack made progress for an RTO; lastSent is stored (no storm)", () => {
    const { sender, send, clock, wire } = setup();
    send(7);
    clock.t += 200;
    sender.tick();
    expect(wire).toEqual([7]); // not overdue: the RTO must be exceeded
    clock.t += 1;
    sender.tick();
    expect(wire).toEqual([7, 7]);
    clock.t += 100;
    sender.tick();
    expect(wire).toEqual([7, 7]); // lastSent was updated on the resend
    clock.t += 101;
    sender.tick();
    expect(wire).toEqual([7, 7, 7]);
  });

  test("messages queued behind our own window are not resent while acks keep coming (timer restarts on progress)", () => {
    const { sender, send, clock, wire } = setup();
    for (let i = 0; i < 100; i++) send(i);
    wire.length = 0;
    for (let i = 0; i < 99; i++) {
      clock.t += 50; // each ack 50 ms after the previous: the last ones wait ~5 s in all
      sender.acknowledge(i);
      sender.tick();
    }
    expect(wire).toEqual([]);
    expect(sender.stats.timerResends + sender.stats.fastResends).toBe(0);
  });

  test("an ack of a later message resends the older unacked ones at once (they were dropped), once", () => {
    const { sender, send, clock, wire } = setup();
    send(1);
    send(2);
    send(3);
    send(4);
    clock.t += 5;
    wire.length = 0;
    sender.acknowledge(2); // seq 2 (bytes 3): seq 0 and 1 were dropped by the agent
    expect(wire).toEqual([1, 2]);
    sender.acknowledge(3); // sent before the resends: no second resend
    expect(wire).toEqual([1, 2]);
    expect(sender.stats.fastResends).toBe(2);
  });

  test("RTT samples only come from messages sent once (Karn)", () => {
    const { sender, send, clock } = setup();
    send(1);
    clock.t += 300;
    sender.tick(); // resent
    clock.t += 5;
    sender.acknowledge(0);
    expect(sender.rtt).toBe(100);
    expect(sender.rto).toBe(200);
  });

  test("acks for unknown or already acked sequence numbers are ignored", () => {
    const { sender, send } = setup();
    send(1);
    expect(sender.acknowledge(5)).toBe(false);
    expect(sender.acknowledge(0)).toBe(true);
    expect(sender.acknowledge(0)).toBe(false);
    expect(sender.isAcked(0)).toBe(true);
  });

  test("a full window is reported (back-pressure) instead of dropping the oldest message", () => {
    const { sender, send } = setup({ windowBytes: 3 });
    send(1);
    send(2);
    expect(sender.windowFull).toBe(false);
    send(3);
    expect(sender.windowFull).toBe(true);
    send(4); // callers should have paused, but nothing is lost if they did not
    expect(sender.unacked).toBe(4);
    sender.acknowledge(0);
    sender.acknowledge(1);
    expect(sender.windowFull).toBe(false);
  });

  test("without a socket nothing is counted as an attempt; after reconnect resendAll resends at once", () => {
    const { sender, send, clock, wire, setConnected } = setup({ maxAttempts: 2 });
    send(1);
    setConnected(false);
    for (let i = 0; i < 10; i++) {
      clock.t += 1000;
      expect(sender.tick()).toBe("ok");
    }
    setConnected(true);
    send(2);
    wire.length = 0;
    sender.resendAll();
    expect(wire).toEqual([1, 2]);
  });

  test("reports exhaustion when a due message already had maxAttempts resends", () => {
    const { sender, send, clock } = setup({ maxAttempts: 2 });
    send(1);
    clock.t += 300;
    expect(sender.tick()).toBe("ok");
    clock.t += 300;
    expect(sender.tick()).toBe("ok");
    clock.t += 300;
    expect(sender.tick()).toBe("exhausted");
  });

  test("released gets a message's bytes exactly once, when it is acked, and never while it may be resent", () => {
    const clock = { t: 1000 };
    const released: Uint8Array[] = [];
    const sender = new ReliableSender({
      now: () => clock.t,
      transmit: () => true,
      released: (bytes) => released.push(bytes),
    });
    const a = Uint8Array.of(1);
    const b = Uint8Array.of(2);
    expect(sender.sendEncoded(a, 1)).toBe(0);
    expect(sender.sendEncoded(b, 1)).toBe(1);
    clock.t += 5000;
    sender.tick(); // a is resent: still unacked, still the sender's
    expect(released).toEqual([]);
    sender.acknowledge(1);
    expect(released).toEqual([b]);
    sender.acknowledge(1); // a duplicate ack releases nothing twice
    sender.acknowledge(0);
    expect(released).toEqual([b, a]);
  });
});
