/**
 * The agent's reliable delivery on a manual clock, behaviour by behaviour, each as amazon-ssm-agent
 * agent/session/datachannel/datachannel.go (resend scheduler, buffers, ProcessStreamMessage) and
 * agent/session/config/config.go (ResendSleepInterval, RTO constants, buffer capacities) have it.
 */
import { describe, expect, test } from "bun:test";
import { ManualClock } from "../../test-support/manual-clock.ts";
import {
  type AgentMessage,
  decodeAgentMessage,
  encodeAcknowledge,
  encodeAgentMessage,
  MessageType,
  PayloadType,
  parseAcknowledge,
} from "../../tunnel/codec.ts";
import { createPrng } from "./prng.ts";
import { type Delivery, ReliableChannel } from "./reliable-channel.ts";
import { createStats } from "./stats.ts";

function setup(options: { capacity?: number; deliver?: (m: AgentMessage) => Delivery } = {}) {
  const clock = new ManualClock();
  const stats = createStats("s", "i-0", "3.3.987.0", 1);
  const wire: AgentMessage[] = [];
  const delivered: number[] = [];
  const channel = new ReliableChannel({
    stats,
    clock,
    ...(options.capacity ? { capacity: options.capacity } : {}),
    faults: () => ({ plan: {}, prng: createPrng(1) }),
    deliver:
      options.deliver ??
      ((m) => {
        delivered.push(m.sequenceNumber);
        return "handled";
      }),
    onCloseWebSocketFault: () => {},
  });
  channel.attach((frame) => wire.push(decodeAgentMessage(frame)));
  const sent = () =>
    wire.filter((m) => m.messageType === MessageType.OutputStreamData).map((m) => m.sequenceNumber);
  const acks = () =>
    wire
      .filter((m) => m.messageType === MessageType.Acknowledge)
      .map((m) => parseAcknowledge(m.payload).AcknowledgedMessageSequenceNumber);
  const ackFromClient = (seq: number) => {
    const m = wire.find((x) => x.messageType === MessageType.OutputStreamData && x.sequenceNumber === seq);
    if (!m) throw new Error(`seq ${seq} never sent`);
    channel.receive(encodeAcknowledge(m));
  };
  const input = (seq: number) =>
    encodeAgentMessage({
      messageType: MessageType.InputStreamData,
      sequenceNumber: seq,
      payloadType: PayloadType.Output,
      payload: new Uint8Array([seq & 0xff]),
    });
  return { clock, stats, wire, delivered, channel, sent, acks, ackFromClient, input };
}

const out = (c: ReliableChannel, n: number) => {
  for (let i = 0; i < n; i++) c.sendStreamData(PayloadType.Output, new Uint8Array([i]));
};

describe("resend (datachannel.go resend scheduler, config.go ResendSleepInterval)", () => {
  test("only the oldest unacked message is resent, on a 100 ms tick once the 200 ms RTO has passed", () => {
    const t = setup();
    out(t.channel, 5);
    expect(t.sent()).toEqual([0, 1, 2, 3, 4]);
    t.clock.advance(200); // ticks at 100 and 200: not older than the RTO yet
    expect(t.sent()).toHaveLength(5);
    t.clock.advance(100); // tick at 300: the head is overdue
    expect(t.sent().slice(5)).toEqual([0]);
    t.clock.advance(100); // lastSent was updated: not again before another RTO
    expect(t.sent().slice(5)).toEqual([0]);
    t.clock.advance(200);
    expect(t.sent().slice(5)).toEqual([0, 0]);
    expect(t.stats.retransmissions).toBe(2);
    t.channel.close();
  });

  test("a reattached WebSocket gets nothing resent at once; the head trickles out per tick", () => {
    const t = setup();
    out(t.channel, 3);
    t.channel.detach();
    const wire: number[] = [];
    t.channel.attach((frame) => wire.push(decodeAgentMessage(frame).sequenceNumber));
    expect(wire).toEqual([]);
    t.clock.advance(300);
    expect(wire).toEqual([0]);
    t.channel.close();
  });

  test("RTO follows Jacobson from the last send: RTT + max(10 ms, 4·RTTVAR), capped at 1 s", () => {
    const t = setup();
    out(t.channel, 1);
    t.clock.advance(20);
    t.ackFromClient(0); // sample 20: RTTVAR = 20, RTT = 90, RTO = 90 + 80 = 170
    expect(t.channel.currentRto).toBeCloseTo(170, 5);
    out(t.channel, 1);
    t.clock.advance(5000); // resent meanwhile: the sample starts at the last resend, not at 0
    t.ackFromClient(1);
    expect(t.channel.currentRto).toBeLessThan(400);
    out(t.channel, 1);
    t.channel.detach(); // no socket, no resends: a 5 s sample
    t.clock.advance(5000);
    t.ackFromClient(2);
    expect(t.channel.currentRto).toBe(1000);
    t.channel.close();
  });
});

describe("buffers (config.go OutgoingMessageBufferCapacity / IncomingMessageBufferCapacity)", () => {
  test("reading never pauses for unacked output; a message sent while the buffer is full is never stored, never resent", () => {
    const t = setup({ capacity: 4 });
    out(t.channel, 6); // 4 stored, 2 sent but not stored
    expect(t.sent()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(t.stats.outgoingNotStored).toBe(2);
    for (const seq of [0, 1, 2, 3]) t.ackFromClient(seq);
    t.clock.advance(5000);
    expect(t.sent()).toEqual([0, 1, 2, 3, 4, 5]); // 4 and 5 are gone for good
    t.channel.close();
  });

  test("early arrivals are acked on arrival and delivered in order; beyond capacity they are dropped unacked", () => {
    const t = setup({ capacity: 2 });
    t.channel.receive(t.input(1));
    t.channel.receive(t.input(2));
    t.channel.receive(t.input(3)); // buffer full: dropped, no ack
    expect(t.acks()).toEqual([1, 2]);
    expect(t.delivered).toEqual([]);
    t.channel.receive(t.input(0));
    expect(t.delivered).toEqual([0, 1, 2]);
    expect(t.acks()).toEqual([1, 2, 0]);
    t.channel.receive(t.input(1)); // duplicate: acked again
    expect(t.acks()).toEqual([1, 2, 0, 1]);
    t.channel.close();
  });
});

describe("inbound writes (datachannel.go: written synchronously from the WebSocket reader)", () => {
  test("a blocked reader processes nothing, acks included, until unblocked; then in order", () => {
    const t = setup();
    out(t.channel, 1);
    t.channel.block();
    t.channel.receive(t.input(0));
    t.ackFromClient(0); // the client's ack waits behind the blocked reader
    expect(t.acks()).toEqual([]);
    expect(t.channel.unacked).toBe(1);
    expect(t.channel.backlogFrames).toBe(2);
    t.channel.unblock();
    expect(t.delivered).toEqual([0]);
    expect(t.acks()).toEqual([0]);
    expect(t.channel.unacked).toBe(0);
    expect(t.stats.readerBlocks).toBe(1);
    t.channel.close();
  });
});
