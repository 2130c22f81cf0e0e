/**
 * What the service (not the agent) does to sessions, and the agent's deny list, on a manual clock:
 * idle timeout by data inactivity (Session Manager preferences idleSessionTimeout; the agent has no idle
 * timer, see amazon-ssm-agent agent/session/plugins/port/port_mux.go on keepalive), maximum session
 * duration, the WebSocket closed with 1000 every N (session-manager-plugin #135), ResumeSession refused
 * after N (#136), and remote hosts refused as agent/session/plugins/port/port.go does.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { ResumeSessionCommand, SSMClient, StartSessionCommand } from "@aws-sdk/client-ssm";
import { ManualClock } from "../../test-support/manual-clock.ts";
import { startTestGateway, type TestGateway } from "../../test-support/sandbox/test-gateway.ts";
import { until } from "../../test-support/wait.ts";
import { MessageType, PayloadType, parseJsonPayload } from "../../tunnel/codec.ts";
import { encodeSmuxFrame, SmuxCmd } from "../../tunnel/smux-frame.ts";
import { RawClient } from "../agent/raw-client.ts";
import type { FaultPlan } from "./types.ts";

const IDLE_MS = 60_000;
const MAX_MS = 600_000;
const clock = new ManualClock();
let tg: TestGateway;
let ssm: SSMClient;
let echo: Server;
const clients: RawClient[] = [];

beforeAll(async () => {
  echo = createServer((socket) => {
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  tg = await startTestGateway({
    destination: { host: "127.0.0.1", port: (echo.address() as { port: number }).port },
    timings: { clock },
    idleSessionTimeoutMs: IDLE_MS,
    service: {
      maxSessionDurationMs: MAX_MS,
      vpcCidrs: ["10.0.0.0/16"],
      lookupHost: async (host) => {
        if (host === "metadata.internal") return ["169.254.169.254"];
        if (host === "db.internal") return ["10.0.12.34"];
        throw new Error("NXDOMAIN");
      },
    },
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
});

async function open(host = "db.internal", faults: FaultPlan = {}) {
  tg.gateway.setFaults(faults);
  const res = await ssm.send(
    new StartSessionCommand({
      Target: tg.instanceId,
      DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
      Parameters: { host: [host], portNumber: ["5432"], localPortNumber: ["0"] },
    }),
  );
  tg.gateway.setFaults({});
  const client = await RawClient.connect(res.StreamUrl as string, res.TokenValue as string);
  clients.push(client);
  return { client, sessionId: res.SessionId as string, streamUrl: res.StreamUrl as string };
}

const stats = (id: string) => tg.gateway.sessionStats(id);

async function closedOutput(client: RawClient): Promise<string> {
  const closed = await client.next((m) => m.messageType === MessageType.ChannelClosed);
  return String(parseJsonPayload(closed.payload).Output);
}

describe("idle timeout (service side, data inactivity)", () => {
  test("no tunnel data for the idle timeout ends the session; data in time keeps it, an attached socket alone does not", async () => {
    const { client, sessionId } = await open();
    await client.handshake();
    // Client data at 45 s resets the idle clock.
    clock.advance(45_000);
    client.input(1, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Syn, 3));
    await client.nextAck(1);
    clock.advance(45_000); // 90 s since start, 45 s since data
    expect(stats(sessionId)?.terminated).toBe(false);
    clock.advance(30_000); // 75 s idle, with the WebSocket attached all along
    expect(await closedOutput(client)).toContain("timed out due to inactivity");
    expect(stats(sessionId)).toMatchObject({ terminated: true, terminateReason: "idle timeout" });
  });
});

describe("maximum session duration", () => {
  test("a busy session still ends at the maximum duration", async () => {
    const { client, sessionId } = await open();
    await client.handshake();
    let seq = 1;
    client.input(seq++, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Syn, 3));
    for (let t = 0; t < MAX_MS && !stats(sessionId)?.terminated; t += 30_000) {
      client.input(seq++, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Nop, 0));
      await client.nextAck(seq - 1);
      clock.advance(30_000);
    }
    expect(await closedOutput(client)).toContain("maximum session duration");
    expect(stats(sessionId)?.terminateReason).toBe("maximum session duration");
    expect(clock.now()).toBeGreaterThan(0);
  });
});

describe("service faults", () => {
  test("closeWebSocketEveryMs: the service closes the WebSocket with 1000 after each attach; resumed sockets too", async () => {
    const { client, sessionId, streamUrl } = await open("db.internal", { closeWebSocketEveryMs: 5000 });
    await client.handshake();
    clock.advance(5000);
    expect((await client.waitClosed()).code).toBe(1000);
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
    const second = await RawClient.connect(streamUrl, resumed.TokenValue as string);
    clients.push(second);
    await until(() => stats(sessionId)?.webSocketConnections === 2);
    clock.advance(4999);
    expect(second.closed).toBeUndefined();
    clock.advance(1);
    expect((await second.waitClosed()).code).toBe(1000);
    expect(stats(sessionId)?.faults.webSocketsClosed).toBe(2);
  });

  test("refuseResumeAfterMs: ResumeSession is AccessDenied (403) once the session is that old", async () => {
    const { client, sessionId } = await open("db.internal", { refuseResumeAfterMs: 30_000 });
    await client.handshake();
    await ssm.send(new ResumeSessionCommand({ SessionId: sessionId })); // young: fine
    clock.advance(30_000);
    const refused = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId })).catch((e) => e);
    expect(refused).toMatchObject({ name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } });
  });
});

describe("deny list (port.go validateParameters, resolved once after the handshake)", () => {
  for (const host of [
    "169.254.169.254",
    "fd00:ec2::254",
    "169.254.169.123",
    "metadata.internal",
    "10.0.0.2",
    "10.0.255.255",
  ]) {
    test(`${host} is refused with the agent's message and the session ends`, async () => {
      const { client, sessionId } = await open(host);
      await client.handshake();
      expect(await closedOutput(client)).toBe(`Forwarding to IP address ${host} is forbidden.`);
      expect(stats(sessionId)?.terminated).toBe(true);
      expect(stats(sessionId)?.streamsOpened).toBe(0);
    });
  }

  for (const host of ["db.internal", "127.0.0.1", "localhost", "10.0.0.5", "unresolvable.internal"]) {
    test(`${host} is allowed (loopback, private, a failed lookup)`, async () => {
      const { client, sessionId } = await open(host);
      await client.handshake();
      client.input(1, PayloadType.Output, encodeSmuxFrame(SmuxCmd.Syn, 3));
      await client.nextAck(1);
      expect(stats(sessionId)).toMatchObject({ terminated: false, streamsOpened: 1 });
    });
  }
});
