/**
 * tunnel/pool.ts against the agent emulator: a listener that outlives its sessions and spreads local
 * connections over N sessions (least-loaded first), surviving the service's faults.
 */
import { afterEach, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { TerminateSessionCommand } from "@aws-sdk/client-ssm";
import { gatewayWorld } from "../test-support/tunnel/gateway-world.ts";
import { until } from "../test-support/wait.ts";
import { openTunnelPool, type PoolEvent, type TunnelPool } from "../tunnel/pool.ts";

const world = gatewayWorld();
const pools: TunnelPool[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  world.gw.gateway.setFaults({});
});

async function pool(sessions: number, events: PoolEvent[] = []): Promise<TunnelPool> {
  const p = await openTunnelPool({
    target: world.gw.instanceId,
    host: "db.internal",
    port: 5432,
    ssm: world.ssm,
    sessions,
    retryDelayMs: 50,
    onEvent: (e) => events.push(e),
  });
  pools.push(p);
  return p;
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** An echo connection that stays open: `say(text)` resolves with the echo. */
async function echoConnection(port: number) {
  const socket = await dial(port);
  socket.write("E");
  let buffered = "";
  socket.on("data", (d: Buffer) => {
    buffered += d.toString();
  });
  return {
    socket,
    async say(text: string): Promise<string> {
      buffered = "";
      socket.write(text);
      await until(() => buffered.length >= text.length || socket.destroyed, 5000);
      return buffered;
    },
  };
}

async function echoOnce(port: number, text: string): Promise<string> {
  const c = await echoConnection(port);
  const reply = await c.say(text);
  c.socket.destroy();
  return reply;
}

test("connections are spread over the sessions, least-loaded first, and stay on theirs", async () => {
  const p = await pool(2);
  await until(() => p.sessions().length === 2, 10_000);
  const conns = [];
  for (let i = 0; i < 4; i++) {
    const c = await echoConnection(p.port);
    expect(await c.say(`hello ${i}`)).toBe(`hello ${i}`);
    conns.push(c);
  }
  expect(p.sessions().map((s) => s.connections)).toEqual([2, 2]);
  for (const s of p.sessions()) expect(world.gw.gateway.sessionStats(s.sessionId)?.streamsOpened).toBe(2);
  for (const c of conns) c.socket.destroy();
}, 30_000);

test("a session terminated from outside: its connections are closed and reported, the listener and the other session go on, a replacement opens", async () => {
  const events: PoolEvent[] = [];
  const p = await pool(2, events);
  await until(() => p.sessions().length === 2, 10_000);
  const a = await echoConnection(p.port);
  const b = await echoConnection(p.port);
  expect(await a.say("a")).toBe("a");
  expect(await b.say("b")).toBe("b");
  const [first] = p.sessions();
  await world.ssm.send(new TerminateSessionCommand({ SessionId: first?.sessionId }));
  await until(() => events.some((e) => e.type === "session-ended"), 5000);
  const ended = events.find((e) => e.type === "session-ended");
  expect(ended).toMatchObject({
    sessionId: first?.sessionId,
    closedConnections: 1,
    reason: { kind: "channel-closed" },
  });
  await until(() => a.socket.destroyed, 5000); // the connection on the ended session is closed
  expect(await b.say("still here")).toBe("still here");
  await until(() => events.filter((e) => e.type === "session-opened").length === 3, 10_000);
  expect(await echoOnce(p.port, "after")).toBe("after");
  b.socket.destroy();
}, 30_000);

test("the service closes the WebSocket (1000) every few hundred ms: connections keep working, no session ends", async () => {
  world.gw.gateway.setFaults({ closeWebSocketEveryMs: 300 });
  const events: PoolEvent[] = [];
  const p = await pool(1, events);
  world.gw.gateway.setFaults({});
  const c = await echoConnection(p.port);
  const until3s = Date.now() + 3000;
  let rounds = 0;
  while (Date.now() < until3s) {
    expect(await c.say(`round ${rounds}`)).toBe(`round ${rounds}`);
    rounds++;
  }
  const [only] = p.sessions();
  expect(world.gw.gateway.sessionStats(only?.sessionId ?? "")?.webSocketConnections).toBeGreaterThan(3);
  expect(events.some((e) => e.type === "session-ended")).toBe(false);
  c.socket.destroy();
}, 30_000);

test("ResumeSession refused (403): the session ends, the same local port gets a new session", async () => {
  world.gw.gateway.setFaults({ closeWebSocketEveryMs: 200, refuseResumeAfterMs: 0 });
  const events: PoolEvent[] = [];
  const p = await pool(1, events);
  world.gw.gateway.setFaults({}); // the replacement is healthy
  await until(() => events.some((e) => e.type === "session-ended"), 10_000);
  expect(events.find((e) => e.type === "session-ended")).toMatchObject({ reason: { kind: "timed-out" } });
  await until(() => events.filter((e) => e.type === "session-opened").length === 2, 10_000);
  expect(await echoOnce(p.port, "new session")).toBe("new session");
}, 30_000);

test("a connection that arrives while no session is live waits for the replacement", async () => {
  const events: PoolEvent[] = [];
  const p = await pool(1, events);
  const [only] = p.sessions();
  await world.ssm.send(new TerminateSessionCommand({ SessionId: only?.sessionId }));
  await until(() => p.sessions().length === 0 || events.some((e) => e.type === "session-ended"), 5000);
  expect(await echoOnce(p.port, "waited")).toBe("waited");
}, 30_000);
