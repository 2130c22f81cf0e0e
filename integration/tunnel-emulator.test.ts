/**
 * The tunnel against the SSM gateway + agent emulator (test-support/sandbox/test-gateway.ts): real moto, real WebSocket,
 * real TCP on both ends. One gateway for the whole file keeps the runtime down; faults and agent
 * versions are set per session or as defaults for the next session.
 */
import { describe, expect, test } from "bun:test";
import { createServer } from "node:net";
import { SSMClient, TerminateSessionCommand } from "@aws-sdk/client-ssm";
import { startGateway } from "../sandbox/gateway/index.ts";
import type { FaultPlan } from "../sandbox/gateway/types.ts";
import type { TestGateway } from "../test-support/sandbox/test-gateway.ts";
import {
  dialDestination,
  downloadFrom,
  drainHash,
  patternBytes,
  patternSha256,
  requestHeader,
  uploadTo,
} from "../test-support/tunnel/destination.ts";
import { gatewayWorld } from "../test-support/tunnel/gateway-world.ts";
import { until } from "../test-support/wait.ts";
import { encodeAgentMessage, MessageType, PayloadType } from "../tunnel/codec.ts";
import { openTunnel, type SessionTunnel } from "../tunnel/index.ts";
import { dataChannelOf, runSession } from "../tunnel/session.ts";
import { resumeSession, startSession, terminateSession } from "../tunnel/ssm-api.ts";
import { type Tunnel, TunnelError, type TunnelEvent } from "../tunnel/types.ts";

const world = gatewayWorld({ restricted: true });

async function open(events: TunnelEvent[] = [], faults?: FaultPlan): Promise<SessionTunnel> {
  if (!faults)
    return openTunnel({
      target: world.gw.instanceId,
      host: "db.internal",
      port: 5432,
      ssm: world.ssm,
      onEvent: (e) => events.push(e),
    });
  world.gw.gateway.setFaults(faults);
  try {
    return await openTunnel({
      target: world.gw.instanceId,
      host: "db.internal",
      port: 5432,
      ssm: world.ssm,
      onEvent: (e) => events.push(e),
    });
  } finally {
    world.gw.gateway.setFaults({});
  }
}

/** Bulk tests of the client's own correctness and speed run against the unpaced agent (1 MB/s otherwise). */
const UNPACED: FaultPlan = { unpaced: true };

async function echo(port: number, payload: Buffer): Promise<Buffer> {
  const socket = await dialDestination(port);
  const parts: Buffer[] = [];
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    socket.on("data", (d: Buffer) => {
      parts.push(d);
      got += d.length;
      if (got >= payload.length) resolve();
    });
    socket.once("error", reject);
    socket.once("close", () => resolve());
  });
  socket.write(Buffer.concat([Buffer.from("E"), payload]));
  await done;
  socket.destroy();
  return Buffer.concat(parts);
}

function stats(tunnel: Tunnel) {
  const s = world.gw.gateway.sessionStats(tunnel.sessionId);
  if (!s) throw new Error("no stats");
  return s;
}

const MB = 1024 * 1024;

describe("mux mode against the agent emulator", () => {
  test("32 MB each way arrive byte-exact (sha256)", async () => {
    const events: TunnelEvent[] = [];
    const tunnel = await open(events, UNPACED);
    expect(tunnel.mode).toBe("mux");
    expect(events.map((e) => e.type).slice(0, 3)).toEqual([
      "session-started",
      "handshake-complete",
      "listening",
    ]);
    const n = 32 * MB;
    const expected = patternSha256(n);
    const t0 = performance.now();
    expect(await uploadTo(tunnel.port, n)).toBe(expected);
    const t1 = performance.now();
    expect(await downloadFrom(tunnel.port, n)).toEqual({ sha: expected, length: n });
    const t2 = performance.now();
    console.log(
      `upload ${(n / MB / ((t1 - t0) / 1000)).toFixed(1)} MB/s, download ${(n / MB / ((t2 - t1) / 1000)).toFixed(1)} MB/s`,
    );
    const s = stats(tunnel);
    expect(s.clientVersion).toBe("1.2.677.0");
    expect(s.keepalive).toBe(false);
    expect(s.digestFailures).toBe(0);
    expect(s.malformedFrames).toBe(0);
    await tunnel.close();
  }, 60_000);

  test("32 concurrent connections over one session each get their own bytes back", async () => {
    const tunnel = await open();
    const payloads = Array.from({ length: 32 }, (_, i) => Buffer.from(patternBytes(i * 7919, 64 * 1024 + i)));
    const replies = await Promise.all(payloads.map((p) => echo(tunnel.port, p)));
    for (let i = 0; i < payloads.length; i++) expect(replies[i]?.equals(payloads[i] as Buffer)).toBe(true);
    expect(stats(tunnel).streamsOpened).toBe(32);
    await tunnel.close();
  }, 30_000);

  test("loss, duplication, reordering, delay, lost acks and corrupted digests: still byte-exact", async () => {
    const tunnel = await open();
    world.gw.gateway.setFaults(
      {
        // The agent resends only its oldest unacked message per 100 ms tick (§7.2), so every lost
        // agent message costs up to a tick: rates and size keep this test at a few seconds.
        dropRate: 0.02,
        duplicateRate: 0.05,
        reorderRate: 0.05,
        delayMs: 1,
        dropAckRate: 0.05,
        corruptDigestRate: 0.01,
      },
      tunnel.sessionId,
    );
    const n = 1 * MB;
    const expected = patternSha256(n);
    const [up, down] = await Promise.all([uploadTo(tunnel.port, n), downloadFrom(tunnel.port, n)]);
    expect(up).toBe(expected);
    expect(down).toEqual({ sha: expected, length: n });
    const s = stats(tunnel);
    expect(s.faults.dropped).toBeGreaterThan(0);
    expect(s.faults.duplicated).toBeGreaterThan(0);
    expect(s.faults.reordered).toBeGreaterThan(0);
    expect(s.faults.acksDropped).toBeGreaterThan(0);
    expect(s.faults.digestsCorrupted).toBeGreaterThan(0);
    expect(s.duplicatesReacked).toBeGreaterThan(0); // our resends after lost acks were re-acked
    await tunnel.close();
  }, 30_000);

  test("16 MB download with 1 % of the agent's messages lost: byte-exact within a deadline, nothing dropped by the client", async () => {
    // The agent repairs a loss only by resending its oldest unacked message once per 100 ms tick, so the
    // client must keep every early arrival (acked) until the gap is filled: one stall per loss at most.
    const tunnel = await open([], { unpaced: true, dropRate: 0.01, seed: 7 });
    const n = 16 * MB;
    const started = performance.now();
    expect(await downloadFrom(tunnel.port, n)).toEqual({ sha: patternSha256(n), length: n });
    expect(performance.now() - started).toBeLessThan(60_000);
    expect(stats(tunnel).faults.dropped).toBeGreaterThan(50);
    const client = tunnel.stats();
    expect(client.receiveDropped).toBe(0);
    expect(client.receiveHeldBytes).toBe(0);
    await tunnel.close();
  }, 90_000);

  test("a WebSocket drop mid-transfer resumes the session without losing a byte", async () => {
    const events: TunnelEvent[] = [];
    const tunnel = await open(events);
    world.gw.gateway.setFaults({ closeWebSocketAfter: 2000 }, tunnel.sessionId);
    const n = 4 * MB;
    const expected = patternSha256(n);
    const [up, down] = await Promise.all([uploadTo(tunnel.port, n), downloadFrom(tunnel.port, n)]);
    expect(down).toEqual({ sha: expected, length: n });
    expect(up).toBe(expected);
    expect(events.some((e) => e.type === "reconnecting")).toBe(true);
    expect(events.some((e) => e.type === "reconnected")).toBe(true);
    expect(stats(tunnel).webSocketConnections).toBe(2);
    await tunnel.close();
  }, 30_000);

  test("ResumeSession without a token closes the tunnel as timed out", async () => {
    const tunnel = await open();
    world.gw.gateway.setFaults({ resumeWithoutToken: true, closeWebSocketAfter: 1 }, tunnel.sessionId);
    void downloadFrom(tunnel.port, 64 * 1024).catch(() => {});
    const reason = await tunnel.closed;
    expect(reason.kind).toBe("timed-out");
    await expect(dialDestination(tunnel.port)).rejects.toThrow(); // listener closed
  }, 30_000);

  test("ConnectToPortError is reported per connection with host and port; the session survives", async () => {
    const events: TunnelEvent[] = [];
    const tunnel = await open(events);
    world.gw.gateway.setFaults({ refuseDial: true }, tunnel.sessionId);
    const socket = await dialDestination(tunnel.port);
    await new Promise((r) => socket.once("close", r));
    const deadline = Date.now() + 3000;
    while (!events.some((e) => e.type === "connection-failed") && Date.now() < deadline) await Bun.sleep(20);
    const failed = events.find((e) => e.type === "connection-failed");
    expect(failed).toMatchObject({ type: "connection-failed", id: 3, host: "db.internal", port: 5432 });
    world.gw.gateway.setFaults({}, tunnel.sessionId);
    const reply = await echo(tunnel.port, Buffer.from("still alive"));
    expect(reply.toString()).toBe("still alive");
    await tunnel.close();
  }, 30_000);

  test("a session terminated elsewhere ends the tunnel with channel-closed (its Output text as message)", async () => {
    const tunnel = await open();
    await world.ssm.send(new TerminateSessionCommand({ SessionId: tunnel.sessionId }));
    const reason = await tunnel.closed;
    expect(reason).toEqual({ kind: "channel-closed", message: "" }); // the emulator, like MGS here, sends no Output
    await expect(dialDestination(tunnel.port)).rejects.toThrow();
  }, 30_000);

  test("close() sends the TerminateSession flag, calls the API and closes the listener", async () => {
    const events: TunnelEvent[] = [];
    const tunnel = await open(events);
    const socket = await dialDestination(tunnel.port);
    const closedSocket = new Promise((r) => socket.once("close", r));
    await tunnel.close();
    await tunnel.close(); // idempotent
    expect(await tunnel.closed).toEqual({ kind: "local" });
    const s = stats(tunnel);
    expect(s.terminateFlagReceived).toBe(true);
    expect(s.terminated).toBe(true);
    expect(world.gw.gateway.activeSessions()).not.toContain(tunnel.sessionId);
    await closedSocket;
    await expect(dialDestination(tunnel.port)).rejects.toThrow();
    expect(events.at(-1)).toEqual({ type: "closed", reason: { kind: "local" } });
  }, 30_000);
});

describe("robustness", () => {
  test("a local reader that stalls: delivery pauses (no acks) instead of buffering, then completes byte-exact", async () => {
    const tunnel = await open([], UNPACED);
    const n = 16 * MB;
    const socket = await dialDestination(tunnel.port);
    socket.pause();
    const result = drainHash(socket);
    socket.write(requestHeader("D", n));
    // The agent never pauses for unacked output: it sends everything; we hold it (acked, by bytes) and the
    // undeliverable head unacked, so nothing is lost and memory is what the stalled reader left behind.
    await until(() => stats(tunnel).bytesOut >= n, 20_000);
    const held = tunnel.stats();
    expect(held.receiveHeldBytes).toBeLessThanOrEqual(n);
    expect(held.receiveDropped).toBe(0);
    socket.resume();
    expect(await result).toEqual({ sha: patternSha256(n), length: n });
    socket.destroy();
    expect(stats(tunnel).retransmissions).toBeGreaterThan(0); // the agent had to wait for our readiness
    await tunnel.close();
  }, 30_000);

  test("100 000 malformed and stale frames on a live channel are dropped; the tunnel keeps working", async () => {
    const tunnel = await open();
    const channel = dataChannelOf(tunnel);
    if (!channel) throw new Error("openTunnel's tunnel has no data channel");
    expect((await echo(tunnel.port, Buffer.from("before"))).toString()).toBe("before");
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const valid = encodeAgentMessage({
      messageType: MessageType.OutputStreamData,
      sequenceNumber: 0, // already delivered: a duplicate, re-acked and never delivered again
      payloadType: PayloadType.Output,
      payload: new Uint8Array(64).fill(0x41),
    });
    const droppedBefore = channel.snapshot().framesDropped;
    for (let i = 0; i < 100_000; i++) {
      const frame = valid.slice();
      const kind = i % 4;
      const at = 80 + Math.floor(rand() * 32);
      if (kind === 0)
        frame[at] = (frame[at] ?? 0) ^ 0xff; // bad digest
      else if (kind === 1)
        channel.receiveFrame(frame.subarray(0, Math.floor(rand() * 120))); // short
      else if (kind === 2) new DataView(frame.buffer).setUint32(116, Math.floor(rand() * 5000) + 65); // bad length
      if (kind !== 1) channel.receiveFrame(frame);
    }
    expect(channel.snapshot().framesDropped - droppedBefore).toBeGreaterThanOrEqual(75_000);
    expect((await echo(tunnel.port, Buffer.from("after"))).toString()).toBe("after");
    expect(stats(tunnel).malformedFrames).toBe(0); // nothing we sent back was malformed
    await tunnel.close();
  }, 30_000);

  test("an abort signal closes an open tunnel; an aborted signal refuses to open", async () => {
    const controller = new AbortController();
    const tunnel = await openTunnel({
      target: world.gw.instanceId,
      host: "db.internal",
      port: 5432,
      ssm: world.ssm,
      signal: controller.signal,
    });
    controller.abort();
    expect(await tunnel.closed).toEqual({ kind: "local" });
    expect(stats(tunnel).terminated).toBe(true);
    const error = await openTunnel({
      target: world.gw.instanceId,
      host: "db.internal",
      port: 5432,
      ssm: world.ssm,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect((error as TunnelError).code).toBe("Aborted");
  }, 30_000);
});

describe("agent versions", () => {
  test("basic mode (agent 3.0.0.0): raw bytes, one connection after the other", async () => {
    world.gw.gateway.setFaults({ agentVersion: "3.0.0.0" });
    try {
      const tunnel = await open();
      expect(tunnel.mode).toBe("basic");
      expect(stats(tunnel).mode).toBe("basic");
      const n = 1 * MB;
      expect(await uploadTo(tunnel.port, n)).toBe(patternSha256(n));
      expect((await echo(tunnel.port, Buffer.from("second connection"))).toString()).toBe(
        "second connection",
      );
      await tunnel.close();
    } finally {
      world.gw.gateway.setFaults({});
    }
  }, 30_000);

  test("basic mode: output the agent read from a closed connection never reaches the next one (port_basic.go)", async () => {
    world.gw.gateway.setFaults({ agentVersion: "3.0.0.0" });
    try {
      const tunnel = await open();
      // A download the local client abandons: the agent keeps reading the old destination at its paced
      // rate, and what it read before our DisconnectToPort reaches us afterwards.
      const first = await dialDestination(tunnel.port);
      let got = 0;
      const some = new Promise<void>((resolve) =>
        first.on("data", (d: Buffer) => {
          got += d.length;
          if (got >= 16 * 1024) resolve();
        }),
      );
      first.write(requestHeader("D", 4 * MB));
      await some;
      first.destroy();
      for (let i = 0; i < 3; i++) {
        const text = `connection ${i + 2}`;
        expect((await echo(tunnel.port, Buffer.from(text))).toString()).toBe(text);
      }
      await tunnel.close();
    } finally {
      world.gw.gateway.setFaults({});
    }
  }, 30_000);

  test("agent 3.1.0.0: our smux NOPs keep an idle session alive past the agent's keepalive timeout", async () => {
    // A second gateway on the same moto with the agent's keepalive shortened from 10 s/30 s to 50/300 ms.
    const fast = await startGateway(
      {
        motoUrl: world.gw.moto.url,
        region: world.gw.region,
        credentials: world.gw.credentials,
        resolveDestination: async () => ({ host: world.dest.host, port: world.dest.port }),
        defaultFaults: { agentVersion: "3.1.0.0" },
      },
      { timings: { keepaliveIntervalMs: 50, keepaliveTimeoutMs: 300 } },
    );
    const client = new SSMClient({
      endpoint: fast.url,
      region: world.gw.region,
      credentials: world.gw.credentials,
    });
    try {
      const session = await startSession(client, {
        target: world.gw.instanceId,
        host: "db.internal",
        port: 5432,
        localPort: 0,
      });
      const tunnel = await runSession({
        session,
        control: {
          resume: (id) => resumeSession(client, id),
          terminate: (id) => terminateSession(client, id),
        },
        localPort: 0,
        localHost: "127.0.0.1",
        keepaliveMs: 50,
      });
      expect(fast.sessionStats(tunnel.sessionId)?.keepalive).toBe(true);
      await Bun.sleep(1200); // idle: only NOPs flow
      expect(fast.sessionStats(tunnel.sessionId)?.terminated).toBe(false);
      expect((await echo(tunnel.port, Buffer.from("still here"))).toString()).toBe("still here");
      await tunnel.close();
    } finally {
      client.destroy();
      await fast.stop();
    }
  }, 30_000);

  test("agent 3.1.0.0: mux with smux keepalive on both sides", async () => {
    world.gw.gateway.setFaults({ agentVersion: "3.1.0.0" });
    try {
      const tunnel = await open();
      expect(tunnel.mode).toBe("mux");
      expect((await echo(tunnel.port, Buffer.from("ka"))).toString()).toBe("ka");
      await tunnel.close();
    } finally {
      world.gw.gateway.setFaults({});
    }
  }, 30_000);
});

describe("errors", () => {
  test("AccessDeniedException → AccessDenied naming ssm:StartSession", async () => {
    const restricted = new SSMClient({
      endpoint: world.gw.gateway.url,
      region: world.gw.region,
      credentials: world.gw.restrictedCredentials as NonNullable<TestGateway["restrictedCredentials"]>,
    });
    try {
      const error = await openTunnel({
        target: world.gw.instanceId,
        host: "db.internal",
        port: 5432,
        ssm: restricted,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TunnelError);
      expect((error as TunnelError).code).toBe("AccessDenied");
      expect((error as TunnelError).message).toContain("ssm:StartSession");
      expect((error as TunnelError).message).not.toContain("\n");
    } finally {
      restricted.destroy();
    }
  });

  test("an instance that does not run → TargetNotConnected; a malformed id → InvalidTarget", async () => {
    const notRunning = await openTunnel({
      target: "i-0123456789abcdef0",
      host: "db.internal",
      port: 5432,
      ssm: world.ssm,
    }).catch((e: unknown) => e);
    expect((notRunning as TunnelError).code).toBe("TargetNotConnected");
    const malformed = await openTunnel({
      target: "jump-host",
      host: "db.internal",
      port: 5432,
      ssm: world.ssm,
    }).catch((e: unknown) => e);
    expect((malformed as TunnelError).code).toBe("InvalidTarget");
  });

  test("a busy local port → LocalPortInUse naming the port and --local-port; no session is left behind", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await openTunnel({
        target: world.gw.instanceId,
        host: "db.internal",
        port: 5432,
        localPort: port,
        ssm: world.ssm,
      }).catch((e: unknown) => e);
      expect((error as TunnelError).code).toBe("LocalPortInUse");
      expect((error as TunnelError).message).toContain(String(port));
      expect((error as TunnelError).message).toContain("--local-port");
      const last = world.gw.gateway.sessions().at(-1);
      expect(last?.terminated).toBe(true);
    } finally {
      blocker.close();
    }
  }, 30_000);

  test("the default client honours AWS_ENDPOINT_URL and the standard credential chain", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, world.gw.env);
    try {
      const tunnel = await openTunnel({ target: world.gw.instanceId, host: "db.internal", port: 5432 });
      expect((await echo(tunnel.port, Buffer.from("env"))).toString()).toBe("env");
      await tunnel.close();
    } finally {
      for (const key of Object.keys(world.gw.env)) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  }, 30_000);
});
