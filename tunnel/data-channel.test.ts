/** DataChannel's receive side without a socket: what each message type does (§6). */
import { expect, test } from "bun:test";
import {
  type AgentMessage,
  encodeAcknowledge,
  encodeAgentMessage,
  MessageType,
  PayloadType,
} from "./codec.ts";
import { DataChannel } from "./data-channel.ts";

function setup() {
  const delivered: AgentMessage[] = [];
  const closed: string[] = [];
  const dropped: string[] = [];
  const channel = new DataChannel({
    streamUrl: "ws://127.0.0.1:9/unused",
    tokenValue: "t",
    resumeSession: async () => undefined,
    events: {
      onStreamMessage: (m) => {
        delivered.push(m);
        return true;
      },
      onChannelClosed: (output) => closed.push(output),
      onWritable: () => {},
      onReconnecting: () => {},
      onReconnected: () => {},
      onFailed: () => {},
      onDropped: (reason) => dropped.push(reason),
    },
  });
  return { channel, delivered, closed, dropped };
}

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

test("channel_closed reports its Output text and stops the channel", () => {
  const { channel, closed, delivered } = setup();
  channel.receiveFrame(
    encodeAgentMessage({
      messageType: MessageType.ChannelClosed,
      sequenceNumber: 0,
      payloadType: 0,
      payload: json({ MessageType: "channel_closed", SessionId: "s", Output: "Session terminated by admin" }),
    }),
  );
  expect(closed).toEqual(["Session terminated by admin"]);
  // Nothing is processed after the channel closed.
  channel.receiveFrame(
    encodeAgentMessage({ messageType: MessageType.OutputStreamData, sequenceNumber: 0, payloadType: 1 }),
  );
  expect(delivered).toHaveLength(0);
});

test("an ack resolves waitForAck; an ack for an unknown sequence number changes nothing", async () => {
  const { channel } = setup();
  const seq = channel.sendFlag(2);
  expect(channel.unacked).toBe(1);
  const waiting = channel.waitForAck(seq, 1000);
  channel.receiveFrame(
    encodeAcknowledge({
      messageType: "input_stream_data",
      messageId: crypto.randomUUID(),
      sequenceNumber: 7,
    }),
  );
  expect(channel.unacked).toBe(1);
  channel.receiveFrame(
    encodeAcknowledge({
      messageType: "input_stream_data",
      messageId: crypto.randomUUID(),
      sequenceNumber: seq,
    }),
  );
  expect(await waiting).toBe(true);
  expect(channel.unacked).toBe(0);
  expect(await channel.waitForAck(99, 10)).toBe(true); // never sent counts as acked
  channel.close();
});

test("waitForAck gives up after its timeout", async () => {
  const { channel } = setup();
  const seq = channel.sendFlag(2);
  expect(await channel.waitForAck(seq, 20)).toBe(false);
  channel.close();
});

test("publication control, unknown types and client-direction data are ignored; garbage is dropped", () => {
  const { channel, delivered, dropped } = setup();
  for (const type of [
    MessageType.StartPublication,
    MessageType.PausePublication,
    "brand_new_type",
    MessageType.InputStreamData,
  ]) {
    channel.receiveFrame(
      encodeAgentMessage({ messageType: type, sequenceNumber: 0, payloadType: PayloadType.Output }),
    );
  }
  expect(delivered).toHaveLength(0);
  expect(dropped).toHaveLength(0);
  channel.receiveFrame(new Uint8Array(10));
  const badAck = encodeAgentMessage({
    messageType: MessageType.Acknowledge,
    sequenceNumber: 0,
    payloadType: 0,
    payload: json({ AcknowledgedMessageSequenceNumber: "x" }),
  });
  channel.receiveFrame(badAck);
  expect(dropped).toHaveLength(2);
  expect(channel.snapshot().framesDropped).toBe(2);
  channel.close();
});

test("output_stream_data is delivered in order and acked (acks are counted even without a socket)", () => {
  const { channel, delivered } = setup();
  const data = (seq: number) =>
    encodeAgentMessage({
      messageType: MessageType.OutputStreamData,
      sequenceNumber: seq,
      payloadType: PayloadType.Output,
      payload: Uint8Array.of(seq),
    });
  channel.receiveFrame(data(1));
  channel.receiveFrame(data(0));
  channel.receiveFrame(data(0));
  expect(delivered.map((m) => m.sequenceNumber)).toEqual([0, 1]);
  expect(channel.snapshot().acksOut).toBe(3); // early 1, then 0, then the duplicate 0 again
  channel.close();
});
