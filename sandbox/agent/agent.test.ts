/**
 * The agent emulator driven with raw frames over a real WebSocket (no tunnel client involved): each test
 * plays the client by hand and asserts the agent's bytes and behaviour (ssm-session-protocol.md §13).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import {
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  TerminateSessionCommand,
} from "@aws-sdk/client-ssm";
import { startTestGateway, type TestGateway } from "../../test-support/sandbox/test-gateway.ts";
import { until } from "../../test-support/wait.ts";
import {
  type AgentMessage,
  decodeFlag,
  encodeAgentMessage,
  FlagValue,
  MessageFlags,
  MessageType,
  PayloadType,
  parseJsonPayload,
} from "../../tunnel/codec.ts";
import { encodeSmuxFrame, SmuxCmd, type SmuxFrame, SmuxFrameDecoder } from "../../tunnel/smux-frame.ts";
import type { FaultPlan } from "../gateway/types.ts";
import { RawClient } from "./raw-client.ts";

const utf8 = new TextEncoder();
let tg: TestGateway;
let ssm: SSMClient;
let echo: Server;
/** Destination sockets the echo server accepted, to observe the agent's dials and closes. */
const accepted: Socket[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  echo = createServer((socket) => {
    accepted.push(socket);
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  const port = (echo.address() as { port: number }).port;
  tg = await startTestGateway({
    destination: { host: "127.0.0.1", port },
    timings: { handshakeTimeoutMs: 1500, keepaliveIntervalMs: 100, keepaliveTimeoutMs: 400 },
  });
  ssm = new SSMClient({ endpoint: tg.gateway.url, region: tg.region, credentials: tg.credentials });
}, 60_000);

afterAll(async () => {
  ssm?.destroy();
  await tg?.stop();
  echo?.close();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  tg.gateway.setFaults({});
});

interface Opened {
  readonly sessionId: string;
  readonly streamUrl: string;
  readonly token: string;
  readonly client: RawClient;
}

/** StartSession with `faults` as the session's plan, then connect and send OpenDataChannelInput. */
async function open(faults: FaultPlan = {}, clientVersion = "1.2.677.0"): Promise<Opened> {
  tg.gateway.setFaults(faults);
  const res = await ssm.send(
    new StartSessionCommand({
      Target: tg.instanceId,
      DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
      Parameters: { host: ["db.internal"], portNumber: ["5432"], localPortNumber: ["15432"] },
    }),
  );
  tg.gateway.setFaults({});
  const client = await RawClient.connect(res.StreamUrl as string, res.TokenValue as string, clientVersion);
  clients.push(client);
  return {
    sessionId: res.SessionId as string,
    streamUrl: res.StreamUrl as string,
    token: res.TokenValue as string,
    client,
  };
}

function stats(sessionId: string) {
  const s = tg.gateway.sessionStats(sessionId);
  if (!s) throw new Error(`no stats for ${sessionId}`);
  return s;
}

interface ReadState {
  expected: number;
  readonly decoder: SmuxFrameDecoder;
  readonly early: Map<number, AgentMessage>;
  readonly flags: number[];
}
const readStates = new WeakMap<RawClient, ReadState>();

/**
 * Acks output messages and reassembles them in sequence order (from seq 2, after the handshake), like a
 * client would, collecting smux frames (and flags) until `done` says so.
 */
async function readSmux(
  client: RawClient,
  done: (frames: SmuxFrame[]) => boolean,
  timeoutMs = 3000,
): Promise<SmuxFrame[]> {
  let state = readStates.get(client);
  if (!state) {
    state = { expected: 2, decoder: new SmuxFrameDecoder(), early: new Map(), flags: [] };
    readStates.set(client, state);
  }
  const frames: SmuxFrame[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(frames)) {
    const m = await client.next(
      (x) => x.messageType === MessageType.OutputStreamData,
      Math.max(1, deadline - Date.now()),
    );
    client.ack(m);
    if (m.sequenceNumber < state.expected) continue; // duplicate
    state.early.set(m.sequenceNumber, m);
    for (let next = state.early.get(state.expected); next; next = state.early.get(state.expected)) {
      state.early.delete(state.expected);
      state.expected++;
      if (next.payloadType === PayloadType.Output) frames.push(...state.decoder.push(next.payload));
      if (next.payloadType === PayloadType.Flag) state.flags.push(decodeFlag(next.payload));
    }
  }
  return frames;
}

function smux(...frames: Uint8Array[]): Uint8Array {
  return Buffer.concat(frames);
}

const text = (frames: SmuxFrame[], id: number) =>
  Buffer.concat(
    frames.filter((f) => f.cmd === SmuxCmd.Psh && f.streamId === id).map((f) => f.data),
  ).toString();

describe("handshake", () => {
  test("HandshakeRequest and HandshakeComplete have the agent's header fields and JSON shape", async () => {
    const { client, sessionId } = await open();
    const request = await client.nextData();
    expect(request.sequenceNumber).toBe(0);
    expect(request.flags).toBe(MessageFlags.Syn);
    expect(request.payloadType).toBe(PayloadType.HandshakeRequest);
    expect(parseJsonPayload(request.payload)).toEqual({
      AgentVersion: "3.3.987.0",
      RequestedClientActions: [
        {
          ActionType: "SessionType",
          ActionParameters: {
            SessionType: "Port",
            Properties: {
              type: "LocalPortForwarding",
              host: "db.internal",
              portNumber: "5432",
              localPortNumber: "15432",
            },
          },
        },
      ],
    });
    client.ack(request);
    client.input(
      0,
      PayloadType.HandshakeResponse,
      utf8.encode(
        '{"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1,"ActionResult":null,"Error":""}],"Errors":null}',
      ),
    );
    const ack = await client.nextAck(0);
    expect(ack.sequenceNumber).toBe(0);
    expect(ack.flags).toBe(MessageFlags.Ack);
    expect(ack.payloadType).toBe(PayloadType.None);
    expect(parseJsonPayload(ack.payload)).toMatchObject({
      AcknowledgedMessageType: "input_stream_data",
      AcknowledgedMessageSequenceNumber: 0,
      IsSequentialMessage: true,
    });
    const complete = await client.nextData(PayloadType.HandshakeComplete);
    expect(complete.sequenceNumber).toBe(1);
    expect(complete.flags).toBe(0n);
    const body = parseJsonPayload(complete.payload);
    expect(Number.isInteger(body.HandshakeTimeToComplete)).toBe(true);
    expect(body.CustomerMessage).toBe("");
    client.ack(complete);
    // datachannel.go: agent_session_state "Connected" comes first (unsequenced, flags 3), and
    // HandshakeComplete goes out before the reader acks the response.
    const first = client.log[0] as AgentMessage;
    expect(first.messageType).toBe("agent_session_state");
    expect(first.flags).toBe(3n);
    expect(parseJsonPayload(first.payload)).toEqual({
      SchemaVersion: 1,
      SessionState: "Connected",
      SessionId: sessionId,
    });
    const order = client.log.map((m) => `${m.messageType}:${m.payloadType}`);
    expect(order.indexOf(`output_stream_data:${PayloadType.HandshakeComplete}`)).toBeLessThan(
      order.indexOf(`${MessageType.Acknowledge}:${PayloadType.None}`),
    );
    const s = stats(sessionId);
    expect(s).toMatchObject({
      mode: "mux",
      keepalive: false,
      clientVersion: "1.2.677.0",
      handshakeComplete: true,
    });
  });

  test("mode follows ClientVersion and AgentVersion as in spec 10.1", async () => {
    const cases: [FaultPlan, string, string, boolean][] = [
      [{}, "1.2.677.0", "mux", false],
      [{}, "1.2.0.0", "mux", true], // a source-built plugin: ≤ 1.2.331.0 keeps keepalive on
      [{}, "1.1.0", "basic", false], // < 1.1.70
      [{ agentVersion: "3.1.0.0" }, "1.2.677.0", "mux", true], // old agent: always keepalive
      [{ agentVersion: "3.0.0.0" }, "1.2.677.0", "basic", false], // no mux before 3.0.196.0
    ];
    for (const [plan, clientVersion, mode, keepalive] of cases) {
      const { client, sessionId } = await open(plan, clientVersion);
      const { request } = await client.handshake(clientVersion);
      expect(request.AgentVersion).toBe(plan.agentVersion ?? "3.3.987.0");
      expect(stats(sessionId)).toMatchObject({ mode, keepalive });
    }
  });

  test("a HandshakeResponse without a SessionType action is accepted (datachannel.go)", async () => {
    const { client, sessionId } = await open();
    client.ack(await client.nextData());
    client.input(
      0,
      PayloadType.HandshakeResponse,
      utf8.encode('{"ClientVersion":"1.2.677.0","ProcessedClientActions":[]}'),
    );
    await client.nextAck(0);
    client.ack(await client.nextData(PayloadType.HandshakeComplete));
    expect(stats(sessionId)).toMatchObject({ handshakeComplete: true, mode: "mux", terminated: false });
  });

  test("a failed SessionType action ends the session with channel_closed", async () => {
    const { client, sessionId } = await open();
    const request = await client.nextData();
    client.ack(request);
    client.input(
      0,
      PayloadType.HandshakeResponse,
      utf8.encode(
        '{"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":2,"ActionResult":null,"Error":"nope"}],"Errors":["nope"]}',
      ),
    );
    const closed = await client.next((m) => m.messageType === MessageType.ChannelClosed);
    expect(String(parseJsonPayload(closed.payload).Output)).toContain("nope");
    await client.waitClosed();
    expect(stats(sessionId).terminated).toBe(true);
  });

  test("no HandshakeResponse within the timeout ends the session", async () => {
    const { client, sessionId } = await open();
    client.ack(await client.nextData());
    const closed = await client.next((m) => m.messageType === MessageType.ChannelClosed, 4000);
    expect(parseJsonPayload(closed.payload)).toMatchObject({
      SessionId: sessionId,
      MessageType: "channel_closed",
    });
    expect(stats(sessionId).terminateReason).toBe("handshake timed out");
  });
});

describe("OpenDataChannelInput", () => {
  test("a wrong token closes the socket and nothing is sent", async () => {
    const { streamUrl } = await open();
    const bad = await RawClient.connect(streamUrl, "not-the-token");
    clients.push(bad);
    expect((await bad.waitClosed()).code).toBe(1008);
    expect(bad.log).toHaveLength(0);
  });

  test("a binary first frame closes the socket", async () => {
    const { streamUrl } = await open();
    const bad = await RawClient.connect(streamUrl);
    clients.push(bad);
    bad.sendRaw(
      encodeAgentMessage({ messageType: MessageType.InputStreamData, sequenceNumber: 0, payloadType: 1 }),
    );
    expect((await bad.waitClosed()).code).toBe(1008);
  });

  test("WebSocket pings (the plugin's keepalive) are answered", async () => {
    const { client } = await open();
    const ws = client.ws as WebSocket & { ping(data: string): void };
    const pong = new Promise<string>((resolve) => {
      ws.addEventListener("pong" as "message", () => resolve("pong"));
      setTimeout(() => resolve("no pong"), 2000);
    });
    ws.ping("keepalive");
    expect(await pong).toBe("pong");
  });

  test("an unknown session id is refused at the upgrade", async () => {
    const url = `${tg.gateway.url.replace("http", "ws")}/v1/data-channel/nobody-0123456789abcdef0?role=publish_subscribe`;
    await expect(RawClient.connect(url, "x")).rejects.toThrow();
  });
});

describe("reliable delivery", () => {
  test("an unacked message is retransmitted unchanged until acked", async () => {
    const { client, sessionId } = await open();
    const first = await client.nextData();
    const again = await client.nextData(undefined, 2000);
    expect(again.messageId).toBe(first.messageId);
    expect(again.createdDate).toBe(first.createdDate);
    expect(again.sequenceNumber).toBe(0);
    client.ack(again);
    await Bun.sleep(500);
    const retransmissions = stats(sessionId).retransmissions;
    expect(retransmissions).toBeGreaterThanOrEqual(1);
    await Bun.sleep(500);
    // Acked: no further resends.
    expect(stats(sessionId).retransmissions).toBe(retransmissions);
    expect(
      client
        .pending()
        .filter((m) => m.messageType === MessageType.OutputStreamData && m.sequenceNumber === 0),
    ).toHaveLength(0);
  });

  test("a duplicate is acked again; early arrivals are acked and delivered in order", async () => {
    const { client, sessionId } = await open();
    await client.handshake();
    // seq 0 again (the handshake response): re-acked, not processed again.
    client.input(0, PayloadType.HandshakeResponse, utf8.encode("{}"));
    await client.nextAck(0);
    expect(stats(sessionId).duplicatesReacked).toBe(1);
    // seq 2 (PSH) before seq 1 (SYN): both acked at once, echo only after the gap is filled.
    client.input(2, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Psh, 3, utf8.encode("ordered")));
    await client.nextAck(2);
    client.input(1, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Syn, 3));
    await client.nextAck(1);
    const frames = await readSmux(client, (f) => text(f, 3) === "ordered");
    expect(text(frames, 3)).toBe("ordered");
    expect(stats(sessionId).messagesIn).toBe(3);
  });

  test("a client frame with a wrong digest is dropped unacked and counted", async () => {
    const { client, sessionId } = await open();
    await client.handshake();
    const frame = encodeAgentMessage({
      messageType: MessageType.InputStreamData,
      sequenceNumber: 1,
      payloadType: PayloadType.Output,
      payload: encodeSmuxFrame(SmuxCmd.Syn, 3),
    });
    const bad = frame.slice();
    bad[90] = (bad[90] ?? 0) ^ 1;
    client.sendRaw(bad);
    await expect(client.nextAck(1, 300)).rejects.toThrow("timed out");
    expect(stats(sessionId).digestFailures).toBe(1);
    client.sendRaw(frame);
    await client.nextAck(1);
  });
});

describe("mux port session", () => {
  test("SYN dials the destination, PSH is echoed, FIN closes both sides", async () => {
    const { client, sessionId } = await open();
    await client.handshake();
    const before = accepted.length;
    client.input(
      1,
      PayloadType.Output,
      smux(encodeSmuxFrame(SmuxCmd.Syn, 3), encodeSmuxFrame(SmuxCmd.Psh, 3, utf8.encode("hello"))),
    );
    await client.nextAck(1);
    expect(text(await readSmux(client, (f) => text(f, 3) === "hello"), 3)).toBe("hello");
    expect(accepted.length).toBe(before + 1);
    const destination = accepted[accepted.length - 1] as Socket;
    const destinationClosed = new Promise<void>((resolve) => destination.once("close", () => resolve()));
    client.input(2, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Fin, 3));
    const frames = await readSmux(client, (f) => f.some((x) => x.cmd === SmuxCmd.Fin && x.streamId === 3));
    expect(frames.some((f) => f.cmd === SmuxCmd.Fin)).toBe(true);
    await destinationClosed;
    expect(stats(sessionId)).toMatchObject({ streamsOpened: 1, dialFailures: 0 });
  });

  test("two streams are independent and output messages never exceed 1024 bytes", async () => {
    const { client } = await open();
    await client.handshake();
    const big = Buffer.alloc(40_000, "x");
    client.input(
      1,
      PayloadType.Output,
      smux(encodeSmuxFrame(SmuxCmd.Syn, 3), encodeSmuxFrame(SmuxCmd.Syn, 5)),
    );
    client.input(2, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Psh, 5, utf8.encode("five")));
    client.input(3, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Psh, 3, big.subarray(0, 30_000)));
    client.input(4, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Psh, 3, big.subarray(30_000)));
    const frames = await readSmux(
      client,
      (f) => text(f, 3).length === big.length && text(f, 5) === "five",
      5000,
    );
    expect(text(frames, 3)).toBe(big.toString());
    const outputs = client.log.filter((m) => m.payloadType === PayloadType.Output);
    expect(Math.max(...outputs.map((m) => m.payload.length))).toBe(1024);
    // smux writers split at 32768 bytes of data per frame.
    expect(Math.max(...frames.map((f) => f.data.length))).toBeLessThanOrEqual(32_768);
  });

  test("a refused dial sends ConnectToPortError and FINs the stream; the session survives", async () => {
    const { client, sessionId } = await open({ refuseDial: true });
    await client.handshake();
    client.input(1, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Syn, 3));
    const frames = await readSmux(client, (f) => f.some((x) => x.cmd === SmuxCmd.Fin && x.streamId === 3));
    expect(frames.some((f) => f.cmd === SmuxCmd.Fin && f.streamId === 3)).toBe(true);
    expect(readStates.get(client)?.flags).toEqual([FlagValue.ConnectToPortError]);
    expect(stats(sessionId)).toMatchObject({
      dialFailures: 1,
      terminated: false,
      faults: { dialsRefused: 1 },
    });
    // Lift the fault: the next stream works.
    tg.gateway.setFaults({}, sessionId);
    client.input(
      2,
      PayloadType.Output,
      smux(encodeSmuxFrame(SmuxCmd.Syn, 5), encodeSmuxFrame(SmuxCmd.Psh, 5, utf8.encode("ok"))),
    );
    expect(text(await readSmux(client, (f) => text(f, 5) === "ok"), 5)).toBe("ok");
  });

  test("keepalive mode sends NOPs and closes a silent session", async () => {
    const { client, sessionId } = await open({ agentVersion: "3.1.0.0" });
    await client.handshake();
    const frames = await readSmux(client, (f) => f.filter((x) => x.cmd === SmuxCmd.Nop).length >= 2);
    expect(frames.every((f) => f.cmd === SmuxCmd.Nop && f.streamId === 0)).toBe(true);
    // No frame from the client: cut off after one or two check periods (400 ms here, 30 s for real).
    const closed = await client.next((m) => m.messageType === MessageType.ChannelClosed, 3000);
    expect(String(parseJsonPayload(closed.payload).Output)).toContain("keepalive");
    expect(stats(sessionId).terminated).toBe(true);
  });

  test("keepalive mode keeps a session that sends NOPs", async () => {
    const { client, sessionId } = await open({ agentVersion: "3.1.0.0" });
    await client.handshake();
    for (let seq = 1; seq <= 8; seq++) {
      client.input(seq, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Nop, 0));
      await Bun.sleep(100);
    }
    expect(stats(sessionId).terminated).toBe(false);
  });
});

describe("no count-based pause (port_mux.go read loop, datachannel.go buffers)", () => {
  test("the agent keeps reading the destination while nothing is acked; acked late, nothing is lost", async () => {
    const { client, sessionId } = await open();
    await client.handshake();
    client.input(1, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Syn, 3));
    await client.nextAck(1);
    // 2 MiB through the echo destination while the client acks none of the agent's output: the agent's
    // paced reads go on regardless (only pause_publication would stop them).
    const chunk = Buffer.alloc(1016);
    const total = 2 * 1024 * 1024;
    let seq = 2;
    for (let sent = 0; sent < total; sent += chunk.length) {
      chunk.fill(seq & 0xff);
      client.input(seq++, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Psh, 3, chunk));
    }
    await until(() => stats(sessionId).messagesOut > 200);
    const before = stats(sessionId).messagesOut;
    await until(() => stats(sessionId).messagesOut > before + 200);
    expect(stats(sessionId).acksReceived).toBe(2); // the handshake's two, none since
    // Now ack: everything arrives, in order, intact.
    client.discard((m) => m.messageType === MessageType.Acknowledge);
    const target = Math.ceil(total / 1016) * 1016;
    let received = 0;
    let counted = 0;
    const frames = await readSmux(
      client,
      (f) => {
        for (; counted < f.length; counted++) received += f[counted]?.data.length ?? 0;
        return received >= target;
      },
      30_000,
    );
    const echoed = Buffer.concat(frames.filter((f) => f.cmd === SmuxCmd.Psh).map((f) => f.data));
    let expectedSeq = 2;
    for (let offset = 0; offset < echoed.length; offset += 1016, expectedSeq++) {
      if (echoed[offset] !== (expectedSeq & 0xff) || echoed[offset + 1015] !== (expectedSeq & 0xff)) {
        throw new Error(`echo corrupted at byte ${offset}`);
      }
    }
    expect(echoed.length).toBe(target);
  }, 40_000);
});

describe("basic port session", () => {
  test("raw bytes are echoed; DisconnectToPort closes, the next data redials and is acked once it is up (port_basic.go)", async () => {
    const dialsBefore = accepted.length;
    const { client, sessionId } = await open({ agentVersion: "3.0.0.0" });
    await client.handshake();
    expect(stats(sessionId).mode).toBe("basic");
    // The agent dials at session start; data sent before the dial is up is (rightly) never acked.
    await until(() => accepted.length > dialsBefore);
    client.input(1, PayloadType.Output, utf8.encode("raw"));
    await client.nextAck(1);
    const out = await client.nextData(PayloadType.Output);
    client.ack(out);
    expect(Buffer.from(out.payload).toString()).toBe("raw");
    const destination = accepted[accepted.length - 1] as Socket;
    const closed = new Promise<void>((resolve) => destination.once("close", () => resolve()));
    client.flag(2, FlagValue.DisconnectToPort);
    await client.nextAck(2);
    await closed;
    // Readiness gating: the data that triggers the redial is not acked before the connection is up.
    const dials = accepted.length;
    const frame = client.input(3, PayloadType.Output, utf8.encode("again"));
    await until(() => accepted.length > dials);
    await until(() => stats(sessionId).notReadyDrops >= 1);
    client.sendRaw(frame); // the client's retransmission finds the connection up: written and acked
    await client.nextAck(3);
    const echoed = await client.nextData(PayloadType.Output);
    expect(Buffer.from(echoed.payload).toString()).toBe("again");
  });

  test("a failed redial ends the session (port_basic.go: the write pump exits with an error)", async () => {
    const dialsBefore = accepted.length;
    const { client, sessionId } = await open({ agentVersion: "3.0.0.0" });
    await client.handshake();
    await until(() => accepted.length > dialsBefore);
    client.flag(1, FlagValue.DisconnectToPort);
    await client.nextAck(1);
    tg.gateway.setFaults({ refuseDial: true }, sessionId);
    client.input(2, PayloadType.Output, utf8.encode("again"));
    const closed = await client.next((m) => m.messageType === MessageType.ChannelClosed);
    expect(String(parseJsonPayload(closed.payload).Output)).toContain("Unable to connect");
    expect(stats(sessionId)).toMatchObject({ terminated: true, faults: { dialsRefused: 1 } });
  });
});

describe("termination and reconnect", () => {
  test("TerminateSession flag: acked, then channel_closed and close", async () => {
    const { client, sessionId } = await open();
    await client.handshake();
    client.flag(1, FlagValue.TerminateSession);
    await client.nextAck(1);
    const closed = await client.next((m) => m.messageType === MessageType.ChannelClosed);
    expect(parseJsonPayload(closed.payload)).toMatchObject({
      SessionId: sessionId,
      DestinationId: tg.instanceId,
      SchemaVersion: 1,
    });
    await client.waitClosed();
    expect(stats(sessionId)).toMatchObject({
      terminateFlagReceived: true,
      terminated: true,
      terminateReason: "TerminateSession flag",
    });
    expect(tg.gateway.activeSessions()).not.toContain(sessionId);
  });

  test("TerminateSession API: channel_closed and close; ResumeSession then fails", async () => {
    const { client, sessionId } = await open();
    await client.handshake();
    await ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
    await client.next((m) => m.messageType === MessageType.ChannelClosed);
    await client.waitClosed();
    await expect(ssm.send(new ResumeSessionCommand({ SessionId: sessionId }))).rejects.toMatchObject({
      name: "DoesNotExistException",
    });
  });

  test("ResumeSession re-attaches with a new token and all sequence state survives", async () => {
    const { client, sessionId, streamUrl, token } = await open();
    await client.handshake();
    client.input(1, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Syn, 3));
    await client.nextAck(1);
    client.close();
    await client.waitClosed();
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
    expect(resumed.TokenValue).toBeString();
    expect(resumed.TokenValue).not.toBe(token);
    expect(resumed.StreamUrl).toBe(streamUrl);
    // The old token is dead.
    const stale = await RawClient.connect(streamUrl, token);
    clients.push(stale);
    expect((await stale.waitClosed()).code).toBe(1008);
    const second = await RawClient.connect(streamUrl, resumed.TokenValue as string);
    clients.push(second);
    // Sequence numbers continue: seq 2 on the new socket reaches the stream opened on the old one.
    second.input(2, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Psh, 3, utf8.encode("resumed")));
    await second.nextAck(2);
    const echoed = await second.nextData(PayloadType.Output);
    expect(echoed.sequenceNumber).toBe(2);
    second.ack(echoed);
    expect(stats(sessionId).webSocketConnections).toBe(2);
  });

  test("output produced while no socket is attached is delivered after the reconnect", async () => {
    const { client, sessionId } = await open();
    await client.handshake();
    client.input(1, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Syn, 3));
    await client.nextAck(1);
    client.input(2, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Psh, 3, utf8.encode("while away")));
    await client.nextAck(2);
    client.close(); // before reading the echo
    await client.waitClosed();
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
    const second = await RawClient.connect(client.ws.url, resumed.TokenValue as string);
    clients.push(second);
    expect(text(await readSmux(second, (f) => text(f, 3) === "while away"), 3)).toBe("while away");
  });
});

describe("fault injection", () => {
  test("dropRate: first transmissions are lost, retransmissions deliver", async () => {
    const { client, sessionId } = await open({ dropRate: 1, seed: 1 });
    const request = await client.nextData(); // can only be a retransmission
    expect(request.sequenceNumber).toBe(0);
    expect(stats(sessionId).faults.dropped).toBe(1);
    expect(stats(sessionId).retransmissions).toBeGreaterThanOrEqual(1);
  });

  test("duplicateRate: every message arrives twice", async () => {
    const { client, sessionId } = await open({ duplicateRate: 1 });
    const a = await client.nextData();
    const b = await client.nextData();
    expect(b.messageId).toBe(a.messageId);
    expect(stats(sessionId).faults.duplicated).toBe(1);
  });

  test("reorderRate: messages arrive out of sequence, the data is intact after reassembly", async () => {
    const { client, sessionId } = await open({ reorderRate: 1 });
    await client.handshake();
    const data = "y".repeat(8000);
    client.input(
      1,
      PayloadType.Output,
      smux(encodeSmuxFrame(SmuxCmd.Syn, 3), encodeSmuxFrame(SmuxCmd.Psh, 3, utf8.encode(data))),
    );
    const frames = await readSmux(client, (f) => text(f, 3).length === data.length, 5000);
    expect(text(frames, 3)).toBe(data);
    const seqs = client.log
      .filter((m) => m.messageType === MessageType.OutputStreamData && m.payloadType === PayloadType.Output)
      .map((m) => m.sequenceNumber);
    expect(seqs).not.toEqual([...seqs].sort((x, y) => x - y));
    expect(stats(sessionId).faults.reordered).toBeGreaterThan(0);
  });

  test("delayMs: every frame waits", async () => {
    const started = performance.now();
    const { client } = await open({ delayMs: 300 });
    await client.nextData();
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
  });

  test("dropAckRate: owed acks are not sent", async () => {
    const { client, sessionId } = await open();
    client.ack(await client.nextData());
    tg.gateway.setFaults({ dropAckRate: 1 }, sessionId);
    client.input(
      0,
      PayloadType.HandshakeResponse,
      utf8.encode(
        '{"ClientVersion":"1.2.677.0","ProcessedClientActions":[{"ActionType":"SessionType","ActionStatus":1}]}',
      ),
    );
    await expect(client.nextAck(0, 300)).rejects.toThrow("timed out");
    expect(stats(sessionId).faults.acksDropped).toBe(1);
    // Processed all the same: HandshakeComplete follows.
    await client.nextData(PayloadType.HandshakeComplete);
  });

  test("corruptDigestRate: the client rejects the corrupted copy, the retransmission is intact", async () => {
    const { client, sessionId } = await open({ corruptDigestRate: 1 });
    const request = await client.nextData(undefined, 2000);
    expect(request.payloadType).toBe(PayloadType.HandshakeRequest);
    expect(client.rejected).toBe(1);
    expect(stats(sessionId).faults.digestsCorrupted).toBe(1);
  });

  test("closeWebSocketAfter: the socket is closed once, and a resumed socket gets the rest", async () => {
    const { client, sessionId, streamUrl } = await open({ closeWebSocketAfter: 1 });
    await client.waitClosed();
    expect(stats(sessionId).faults.webSocketsClosed).toBe(1);
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
    const second = await RawClient.connect(streamUrl, resumed.TokenValue as string);
    clients.push(second);
    await second.handshake();
    expect(stats(sessionId)).toMatchObject({ handshakeComplete: true, faults: { webSocketsClosed: 1 } });
  });

  test("resumeWithoutToken: ResumeSession answers without a TokenValue", async () => {
    const { sessionId } = await open({ resumeWithoutToken: true });
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
    expect(resumed.SessionId).toBe(sessionId);
    expect(resumed.TokenValue).toBeUndefined();
  });

  test("the seed is reported and replays the same fault decisions", async () => {
    const runs: number[] = [];
    for (let i = 0; i < 2; i++) {
      const { client, sessionId } = await open({ dropRate: 0.5, seed: 42 });
      await client.handshake(); // exactly two first transmissions: two PRNG draws
      const s = stats(sessionId);
      expect(s.seed).toBe(42);
      runs.push(s.faults.dropped);
    }
    expect(runs[0]).toBe(runs[1] as number);
  });
});
