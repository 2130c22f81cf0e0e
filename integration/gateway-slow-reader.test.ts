/**
 * The sandbox gateway never drops an agent frame when the client reads its WebSocket slowly. A real
 * agent's WebSocket write blocks on TCP; Bun's ServerWebSocket.send() instead DROPS a frame once 16 MB
 * are buffered (its default backpressureLimit), and the agent resends only its oldest unacked message per
 * 100 ms tick, so one dropped run of frames stalls a download for minutes. sandbox/gateway/index.ts sets
 * a backpressure limit no session reaches; this test fails if that is ever undone.
 *
 * How: the tunnel's WebSocket goes through a TCP relay that stops reading from the gateway while the
 * unpaced agent reads a 48 MB download from its destination and hands every frame to send(). Loopback
 * socket buffers hold a few MB, so well over 16 MB wait in the gateway. Then the relay reads again: with
 * nothing dropped the download completes byte-exact at once; with drops it would need one 100 ms tick per
 * lost frame (tens of thousands of them) and miss the deadline.
 */
import { expect, test } from "bun:test";
import { connect, createServer, type Server, type Socket } from "node:net";
import { downloadFrom, patternSha256 } from "../test-support/tunnel/destination.ts";
import { gatewayWorld } from "../test-support/tunnel/gateway-world.ts";
import { until } from "../test-support/wait.ts";
import { runSession } from "../tunnel/session.ts";
import { resumeSession, startSession, terminateSession } from "../tunnel/ssm-api.ts";

const MB = 1024 * 1024;

const world = gatewayWorld({ faults: { unpaced: true } });

/** A TCP relay to `port` that can stop reading what the server sends (a client whose reads stall). */
async function startRelay(port: number) {
  const upstreams = new Set<Socket>();
  let holding = false;
  const server: Server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    upstreams.add(upstream);
    if (holding) upstream.pause();
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      upstreams.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : 0,
    hold() {
      holding = true;
      for (const upstream of upstreams) upstream.pause();
    },
    release() {
      holding = false;
      for (const upstream of upstreams) upstream.resume();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const upstream of upstreams) upstream.destroy();
        server.close(() => resolve());
      }),
  };
}

test("48 MB queued in the gateway behind a client that stopped reading: nothing dropped, the download completes at once", async () => {
  const relay = await startRelay(world.gw.gateway.port);
  const session = await startSession(world.ssm, {
    target: world.gw.instanceId,
    host: "db.internal",
    port: 5432,
    localPort: 0,
  });
  const viaRelay = new URL(session.StreamUrl);
  viaRelay.port = String(relay.port);
  const tunnel = await runSession({
    session: { ...session, StreamUrl: viaRelay.toString() },
    control: {
      resume: (id) => resumeSession(world.ssm, id),
      terminate: (id) => terminateSession(world.ssm, id),
    },
    localPort: 0,
    localHost: "127.0.0.1",
  });
  try {
    const n = 48 * MB;
    relay.hold();
    const result = downloadFrom(tunnel.port, n);
    // The agent reads the destination regardless of acks: every frame is handed to send() while we hold.
    await until(() => (world.gw.gateway.sessionStats(tunnel.sessionId)?.bytesOut ?? 0) >= n, 30_000);
    relay.release();
    const deadline = Bun.sleep(30_000).then(() => "a dropped frame stalled the download" as const);
    expect(await Promise.race([result, deadline])).toEqual({ sha: patternSha256(n), length: n });
    const stats = world.gw.gateway.sessionStats(tunnel.sessionId);
    // While held, the agent resent only its oldest unacked message, once per 100 ms tick.
    expect(stats?.retransmissions ?? 0).toBeLessThan(1000);
    expect(stats?.outgoingNotStored).toBe(0);
  } finally {
    await tunnel.close();
    await relay.stop();
  }
}, 120_000);
