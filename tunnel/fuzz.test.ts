/**
 * Fuzzing the receive path: mutated frames must be dropped (DecodeError) or handled — never an escaped
 * exception, a hang, or unbounded memory. Deterministic PRNG so a failure replays.
 */
import { describe, expect, test } from "bun:test";
import {
  type AgentMessage,
  DecodeError,
  decodeAgentMessage,
  decodeFlag,
  encodeAcknowledge,
  encodeAgentMessage,
  encodeFlag,
  MessageType,
  PayloadType,
  parseAcknowledge,
  parseJsonPayload,
  sha256,
} from "./codec.ts";
import { DataChannel } from "./data-channel.ts";
import { parseHandshakeComplete, parseHandshakeRequest } from "./handshake.ts";
import { DEFAULT_RECEIVE_CAPACITY_BYTES } from "./reliable-receiver.ts";
import { encodeSmuxFrame, SmuxCmd, SmuxProtocolError } from "./smux-frame.ts";
import { SmuxClientSession } from "./smux-session.ts";

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

function seeds(): Uint8Array[] {
  const smux = new Uint8Array([
    ...encodeSmuxFrame(SmuxCmd.Psh, 3, new TextEncoder().encode("hello")),
    ...encodeSmuxFrame(SmuxCmd.Fin, 3),
    ...encodeSmuxFrame(SmuxCmd.Nop, 0),
  ]);
  const out = (seq: number, payloadType: number, payload: Uint8Array) =>
    encodeAgentMessage({
      messageType: MessageType.OutputStreamData,
      sequenceNumber: seq,
      payloadType,
      payload,
    });
  return [
    out(0, PayloadType.HandshakeRequest, enc({ AgentVersion: "3.3.987.0", RequestedClientActions: [] })),
    out(1, PayloadType.HandshakeComplete, enc({ HandshakeTimeToComplete: 1, CustomerMessage: "" })),
    out(2, PayloadType.Output, smux),
    out(3, PayloadType.Flag, encodeFlag(3)),
    out(4, PayloadType.Output, new Uint8Array(1024).fill(7)),
    encodeAcknowledge({
      messageType: MessageType.InputStreamData,
      messageId: crypto.randomUUID(),
      sequenceNumber: 5,
    }),
    encodeAgentMessage({ messageType: MessageType.StartPublication, sequenceNumber: 0, payloadType: 0 }),
    encodeAgentMessage({ messageType: "some_future_type", sequenceNumber: 0, payloadType: 0 }),
  ];
}

/** One random mutation; about half the time the digest is fixed up so the payload reaches the parsers. */
function mutate(frame: Uint8Array, rand: () => number): Uint8Array {
  let f = frame.slice();
  const r = rand();
  if (r < 0.3) {
    for (let i = 0, n = 1 + Math.floor(rand() * 4); i < n; i++) {
      const at = Math.floor(rand() * f.length);
      f[at] = (f[at] as number) ^ (1 << Math.floor(rand() * 8));
    }
  } else if (r < 0.45) {
    f = f.slice(0, Math.floor(rand() * f.length));
  } else if (r < 0.55) {
    const extra = new Uint8Array(Math.floor(rand() * 64));
    for (let i = 0; i < extra.length; i++) extra[i] = Math.floor(rand() * 256);
    const g = new Uint8Array(f.length + extra.length);
    g.set(f);
    g.set(extra, f.length);
    f = g;
  } else if (r < 0.7 && f.length >= 120) {
    // Header fields: lengths, sequence number, payload type.
    const view = new DataView(f.buffer);
    const field = Math.floor(rand() * 4);
    if (field === 0) view.setUint32(0, Math.floor(rand() * 300));
    if (field === 1) view.setUint32(116, Math.floor(rand() * 2 ** 32));
    if (field === 2) view.setBigInt64(48, BigInt(Math.floor(rand() * 40_000) - 10));
    if (field === 3) view.setUint32(112, Math.floor(rand() * 16));
  } else if (f.length > 120) {
    // Garbage payload bytes with a valid digest: exercises JSON, flag and smux parsing.
    for (let i = 120; i < f.length; i++) if (rand() < 0.1) f[i] = Math.floor(rand() * 256);
  }
  if (f.length >= 120 && rand() < 0.5) {
    const len = new DataView(f.buffer, f.byteOffset).getUint32(116);
    if (120 + len === f.length) f.set(sha256(f.subarray(120)), 80);
  }
  return f;
}

const FRAMES = 100_000;

describe("fuzz", () => {
  test(`${FRAMES} mutated frames: the decoder and every payload parser throw only DecodeError`, () => {
    const rand = prng(0xdb7e11);
    const base = seeds();
    let decoded = 0;
    for (let i = 0; i < FRAMES; i++) {
      const frame = mutate(base[i % base.length] as Uint8Array, rand);
      let message: AgentMessage;
      try {
        message = decodeAgentMessage(frame);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        continue;
      }
      decoded++;
      for (const parse of [
        parseAcknowledge,
        parseHandshakeRequest,
        parseHandshakeComplete,
        decodeFlag,
        parseJsonPayload,
      ] as ((p: Uint8Array) => unknown)[]) {
        try {
          parse(message.payload);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
        }
      }
    }
    expect(decoded).toBeGreaterThan(FRAMES / 10); // the mutations also reach the parsers
  });

  test(`${FRAMES} mutated frames through a data channel's receive path: nothing escapes, memory stays bounded`, () => {
    const rand = prng(0x5eed);
    const base = seeds();
    let smux = new SmuxClientSession({ output: () => {} });
    smux.openStream({ onData: () => {}, onFin: () => {} });
    let delivered = 0;
    let protocolErrors = 0;
    let dropped = 0;
    const channel = new DataChannel({
      streamUrl: "ws://127.0.0.1:9/never-opened",
      tokenValue: "t",
      resumeSession: async () => undefined,
      events: {
        onStreamMessage: (message) => {
          delivered++;
          if (message.payloadType === PayloadType.Output) {
            try {
              smux.push(message.payload);
            } catch (error) {
              if (!(error instanceof SmuxProtocolError)) throw error;
              // The tunnel would end here; for the fuzz run start a fresh smux session and go on.
              protocolErrors++;
              smux = new SmuxClientSession({ output: () => {} });
            }
          }
          return rand() < 0.9; // sometimes "not ready": held, unacked, retried later
        },
        onChannelClosed: () => {},
        onWritable: () => {},
        onReconnecting: () => {},
        onReconnected: () => {},
        onFailed: () => {},
        onDropped: () => dropped++,
      },
    });
    const payloads = base.map((frame) => decodeAgentMessage(frame));
    const started = performance.now();
    for (let i = 0; i < FRAMES; i++) {
      // Mostly frames near the expected sequence number (in order, early, duplicate), then mutated.
      const template = payloads[i % payloads.length] as AgentMessage;
      const frame =
        template.messageType === MessageType.OutputStreamData
          ? encodeAgentMessage({
              messageType: template.messageType,
              sequenceNumber: Math.max(0, channel.receiveExpected + Math.floor(rand() * 6) - 2),
              payloadType: template.payloadType,
              payload: template.payload,
            })
          : (base[i % base.length] as Uint8Array);
      channel.receiveFrame(rand() < 0.3 ? frame : mutate(frame, rand));
      if (i % 1000 === 0) channel.resumeDelivery();
    }
    channel.close();
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(channel.snapshot().framesIn).toBe(FRAMES);
    expect(dropped).toBe(channel.snapshot().framesDropped);
    expect(dropped).toBeGreaterThan(FRAMES / 4);
    expect(delivered).toBeGreaterThan(FRAMES / 10);
    // Early arrivals are capped: mutated sequence numbers cannot grow the buffer without bound.
    expect(channel.snapshot().receiveHeldBytes).toBeLessThanOrEqual(DEFAULT_RECEIVE_CAPACITY_BYTES + 1024);
    console.log(`fuzz: ${dropped} dropped, ${delivered} delivered, ${protocolErrors} smux protocol errors`);
  });
});
