/**
 * The tunnel against the FAITHFUL agent emulator (paced reads, head-only resends: what a real agent does),
 * figures printed next to baselines measured in the same run:
 *
 *   bun bench/tunnel-faithful.ts [--mb 8] [--loss-mb 16]
 *
 * - agent-paced ceiling: the emulator's own read loop (1024 bytes, then 1 ms) draining the destination
 *   with no client at all, measured in the emulator's process (its timers under its load); one session's
 *   download (after a 1 MB warm-up) should reach ≥ 95 % of it (the client adds nothing);
 * - 4 downloads in parallel over a pool of 4 sessions vs one session (target ≥ 3.5×);
 * - a download with 1 % of the agent's messages lost vs lossless (target ≥ 80 %), and 3 % (complete,
 *   byte-exact);
 * - spurious resends: client messages the agent received twice (it re-acks duplicates) per message sent,
 *   during an upload (target < 1 %).
 * The gateway, the agent emulator and the destination run in a child process (the agent is another machine
 * on AWS: sharing this thread would slow its read loop and blame the client).
 */

import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import { SSMClient, StartSessionCommand, TerminateSessionCommand } from "@aws-sdk/client-ssm";
import { MuxPipe } from "../sandbox/agent/mux-pipe.ts";
import { RawClient } from "../sandbox/agent/raw-client.ts";
import type { FaultPlan, SessionStats } from "../sandbox/gateway/types.ts";
import { startTestGateway } from "../test-support/sandbox/test-gateway.ts";
import { patternSha256, startDestination } from "../test-support/tunnel/destination.ts";
import { systemClock } from "../tunnel/clock.ts";
import { type AgentMessage, decodeAgentMessage, MessageType, PayloadType } from "../tunnel/codec.ts";
import { openTunnel } from "../tunnel/index.ts";
import { openTunnelPool } from "../tunnel/pool.ts";
import { encodeSmuxFrame, SmuxCmd, SmuxFrameDecoder } from "../tunnel/smux-frame.ts";
import { type Figure, reportFigures } from "./figures.ts";
import { serveWorld, worldInChild } from "./world-in-child.ts";

const MB = 1024 * 1024;
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

function header(mode: "U" | "D", n: number): Buffer {
  const b = Buffer.alloc(5);
  b.write(mode, 0);
  b.writeUInt32BE(n, 1);
  return b;
}

/** Downloads n pattern bytes through `port`; MB/s, or throws when the bytes are not exact. */
async function download(port: number, n: number): Promise<number> {
  const socket = await dial(port);
  const hash = createHash("sha256");
  let length = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    socket.on("data", (d: Buffer) => {
      hash.update(d);
      length += d.length;
      if (length >= n) resolve();
    });
    socket.once("close", () => resolve());
    socket.write(header("D", n));
  });
  const seconds = (performance.now() - start) / 1000;
  socket.destroy();
  if (length !== n || hash.digest("hex") !== patternSha256(n)) throw new Error("download not byte-exact");
  return n / MB / seconds;
}

async function upload(port: number, n: number): Promise<void> {
  const socket = await dial(port);
  const reply = new Promise<void>((resolve) => socket.on("data", (d: Buffer) => d.length > 0 && resolve()));
  socket.write(header("U", n));
  const chunk = Buffer.alloc(64 * 1024, 7);
  for (let sent = 0; sent < n; sent += chunk.length) {
    if (!socket.write(chunk.subarray(0, Math.min(chunk.length, n - sent)))) {
      await new Promise((r) => socket.once("drain", r));
    }
  }
  await reply;
  socket.destroy();
}

/**
 * The agent's read loop alone against the destination: the pacing ceiling on this machine now. As in mux
 * mode (port_mux.go), the destination is copied as it comes and the loop reads 1024 bytes, then sleeps 1 ms.
 */
async function pacedCeiling(dest: { host: string; port: number }, n: number): Promise<number> {
  const socket = connect(dest.port, dest.host);
  await new Promise((r) => socket.once("connect", r));
  let got = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const pipe = new MuxPipe({
      clock: systemClock,
      emit: (bytes) => {
        got += bytes.length;
        if (got >= n) resolve();
      },
      isActive: () => true,
      onFull: () => socket.pause(),
      onRoom: () => socket.resume(),
    });
    socket.on("data", (chunk: Buffer) => pipe.write(chunk));
    socket.once("close", () => resolve());
    socket.write(header("D", n));
  });
  const seconds = (performance.now() - start) / 1000;
  socket.destroy();
  return n / MB / seconds;
}

/**
 * The least a client can do against the same emulator: a raw data-channel client (sandbox/agent/raw-client.ts)
 * that acks every message on arrival and only counts the smux data, no local socket. What our tunnel adds
 * over this is the client's share; what this loses against the bare read loop is the agent's own sending.
 */
async function ackOnlyDownload(ssm: SSMClient, instanceId: string, n: number): Promise<number> {
  const res = await ssm.send(
    new StartSessionCommand({
      Target: instanceId,
      DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
      Parameters: { host: ["db.internal"], portNumber: ["5432"], localPortNumber: ["0"] },
    }),
  );
  const client = await RawClient.connect(res.StreamUrl as string, res.TokenValue as string);
  try {
    await client.handshake();
    const decoder = new SmuxFrameDecoder();
    let got = 0;
    let start = 0;
    const done = new Promise<void>((resolve) => {
      client.ws.addEventListener("message", (event) => {
        let message: AgentMessage;
        try {
          message = decodeAgentMessage(new Uint8Array(event.data as ArrayBuffer));
        } catch {
          return;
        }
        if (message.messageType !== MessageType.OutputStreamData) return;
        client.ack(message);
        if (message.payloadType !== PayloadType.Output) return;
        for (const frame of decoder.push(message.payload)) {
          if (frame.cmd === SmuxCmd.Psh) got += frame.data.length;
        }
        if (got >= n) resolve();
      });
    });
    client.discard(() => true);
    start = performance.now();
    client.input(
      1,
      PayloadType.Output,
      Buffer.concat([encodeSmuxFrame(SmuxCmd.Syn, 3), encodeSmuxFrame(SmuxCmd.Psh, 3, header("D", n))]),
    );
    await done;
    return n / MB / ((performance.now() - start) / 1000);
  } finally {
    client.close();
    await ssm.send(new TerminateSessionCommand({ SessionId: res.SessionId })).catch(() => {});
  }
}

interface World {
  readonly url: string;
  readonly region: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  readonly instanceId: string;
  readonly dest: { host: string; port: number };
  /** The paced read loop alone, measured in the emulator's process just before it was published (MB/s). */
  readonly ceilingMBps: number;
}

/** Bytes the child's ceiling measurement moves (its rate, not its size, is the figure). */
const CEILING_BYTES = 4 * MB;

/** Child mode: gateway + emulator + destination, described on one JSON line, stopped when stdin closes. */
if (args.includes("--serve")) {
  const dest = await startDestination();
  const gw = await startTestGateway({ destination: dest });
  // Same process, same timers, same load as the emulator's own read loops: the fair ceiling.
  const ceilingMBps = await pacedCeiling(dest, CEILING_BYTES);
  const world: World = {
    ceilingMBps,
    url: gw.gateway.url,
    region: gw.region,
    credentials: gw.credentials,
    instanceId: gw.instanceId,
    dest: { host: dest.host, port: dest.port },
  };
  await serveWorld(world, async () => {
    await gw.stop();
    await dest.stop();
  });
}

async function main(): Promise<void> {
  const mb = flag("--mb", 8);
  const lossMb = flag("--loss-mb", 16);
  const { world, stop } = await worldInChild<World>(import.meta.path, "emulator");
  const ssm = new SSMClient({ endpoint: world.url, region: world.region, credentials: world.credentials });
  const setFaults = async (plan: FaultPlan) => {
    await fetch(`${world.url}/_dbtunnel/faults`, { method: "POST", body: JSON.stringify({ plan }) });
  };
  const sessionStats = async (id: string): Promise<SessionStats | undefined> => {
    const body = (await (await fetch(`${world.url}/_dbtunnel/sessions`)).json()) as {
      sessions: SessionStats[];
    };
    return body.sessions.find((s) => s.sessionId === id);
  };
  const open = async (faults: FaultPlan = {}) => {
    await setFaults(faults);
    try {
      return await openTunnel({ target: world.instanceId, host: "db.internal", port: 5432, ssm });
    } finally {
      await setFaults({});
    }
  };
  const figures: Figure[] = [];
  const line = (name: string, value: number, unit: string, base?: number, baseName = "") =>
    console.log(
      `${name.padEnd(46)} ${value.toFixed(2).padStart(9)} ${unit.padEnd(5)}${base !== undefined ? `  ${baseName} ${base.toFixed(2)}  ratio ${(value / base).toFixed(2)}` : ""}`,
    );
  try {
    const n = mb * MB;
    const ceiling = world.ceilingMBps;
    const one = await open();
    await download(one.port, MB); // warm-up: the emulator's code paths, not yet compiled, are not the client's cost
    const single = await download(one.port, n);
    const ideal = await ackOnlyDownload(ssm, world.instanceId, n);
    line("one session download", single, "MB/s", ceiling, "agent-paced ceiling");
    line("  ack-only raw client, same emulator", ideal, "MB/s", ceiling, "agent-paced ceiling");
    line("  one session download vs ack-only client", single, "MB/s", ideal, "ack-only");
    figures.push(
      {
        name: "faithful one-session download",
        value: single,
        unit: "MB/s",
        baseline: { name: "agent-paced ceiling", value: ceiling },
      },
      {
        name: "faithful one-session download vs an ack-only client",
        value: single,
        unit: "MB/s",
        baseline: { name: "ack-only raw client", value: ideal },
        target: { value: 0.95 * ideal, better: "higher" },
      },
    );

    // Spurious resends during an upload on the same session.
    const before = await sessionStats(one.sessionId);
    const statsBefore = one.stats();
    await upload(one.port, n);
    const after = await sessionStats(one.sessionId);
    const statsAfter = one.stats();
    const sent = statsAfter.messagesOut - statsBefore.messagesOut;
    const dupes = (after?.duplicatesReacked ?? 0) - (before?.duplicatesReacked ?? 0);
    const resends =
      statsAfter.fastResends + statsAfter.timerResends - statsBefore.fastResends - statsBefore.timerResends;
    line("upload: messages the agent got twice", (100 * dupes) / Math.max(1, sent), "%");
    line("upload: client resends", (100 * resends) / Math.max(1, sent), "%");
    figures.push({
      name: "spurious resends (upload, faithful agent)",
      value: (100 * dupes) / Math.max(1, sent),
      unit: "%",
      target: { value: 1, better: "lower" },
    });
    await one.close();

    const pool = await openTunnelPool({
      target: world.instanceId,
      host: "db.internal",
      port: 5432,
      ssm,
      sessions: 4,
    });
    while (pool.sessions().length < 4) await Bun.sleep(20);
    const start = performance.now();
    await Promise.all([0, 1, 2, 3].map(() => download(pool.port, n)));
    const parallel = (4 * n) / MB / ((performance.now() - start) / 1000);
    line("4 downloads over --sessions 4 (aggregate)", parallel, "MB/s", single, "one session");
    figures.push({
      name: "4 sessions aggregate download",
      value: parallel,
      unit: "MB/s",
      baseline: { name: "one session", value: single },
      target: { value: 3.5 * single, better: "higher" },
    });
    await pool.close();

    const ln = lossMb * MB;
    const lossless = await open();
    const clean = await download(lossless.port, ln);
    await lossless.close();
    line(`${lossMb} MB download, lossless`, clean, "MB/s");
    for (const rate of [0.01, 0.03]) {
      const lossy = await open({ dropRate: rate });
      const t0 = performance.now();
      const speed = await download(lossy.port, ln);
      const seconds = (performance.now() - t0) / 1000;
      const s = await sessionStats(lossy.sessionId);
      line(
        `${lossMb} MB download at ${rate * 100} % loss (${s?.faults.dropped} lost, ${seconds.toFixed(0)} s)`,
        speed,
        "MB/s",
        clean,
        "lossless",
      );
      // The agent repairs one loss per 100 ms tick (head-only resend): the transfer cannot end before
      // every loss had its tick, nor before the lossless time.
      const lost = s?.faults.dropped ?? 0;
      const floor = Math.max(ln / MB / clean, lost * 0.1);
      console.log(
        `${"".padEnd(4)}agent: ${s?.retransmissions} resends, RTO now ${s?.rtoMs.toFixed(0)} ms (max ${s?.rtoMaxMs.toFixed(0)} ms); best possible ${floor.toFixed(1)} s = ${(ln / MB / floor).toFixed(2)} MB/s, ratio ${(ln / MB / floor / clean).toFixed(2)}`,
      );
      figures.push({
        name: `download at ${rate * 100} % loss`,
        value: speed,
        unit: "MB/s",
        baseline: { name: "lossless", value: clean },
        ...(rate === 0.01 ? { target: { value: 0.8 * clean, better: "higher" as const } } : {}),
      });
      await lossy.close();
    }
    reportFigures("tunnel-faithful", figures);
  } finally {
    ssm.destroy();
    await stop();
  }
}

await main();
