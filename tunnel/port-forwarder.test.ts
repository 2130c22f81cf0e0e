/**
 * Forwarders against a recording channel (the data channel below is tested on its own and end to end):
 * readiness gating, basic-mode one-at-a-time with DisconnectToPort, ConnectToPortError pairing, upload
 * back-pressure, listener errors.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { until } from "../test-support/wait.ts";
import { FlagValue } from "./codec.ts";
import {
  BasicForwarder,
  type ConnectionEvent,
  type ForwarderChannel,
  MuxForwarder,
} from "./port-forwarder.ts";
import { encodeSmuxFrame, SmuxCmd, SmuxFrameDecoder } from "./smux-frame.ts";
import { TunnelError } from "./types.ts";

class RecordingChannel implements ForwarderChannel {
  readonly output: Uint8Array[] = [];
  readonly flags: number[] = [];
  writable = true;
  resumed = 0;
  writeOutput(bytes: Uint8Array): void {
    this.output.push(bytes.slice());
    this.seq++;
  }
  cork(): void {}
  uncork(): void {}
  /** Messages "sent": output chunks and flags share one sequence, like the data channel's. */
  private seq = 0;
  readonly acked = new Set<number>();
  private readonly ackWaiters = new Map<number, (ok: boolean) => void>();
  sendFlag(flag: number): number {
    this.flags.push(flag);
    return this.seq++;
  }
  sendFlagAfterOutput(flag: number, sent?: (seq: number) => void): void {
    const seq = this.sendFlag(flag);
    sent?.(seq);
  }
  get nextSequence(): number {
    return this.seq;
  }
  waitForAckOf(seq: number): Promise<boolean> {
    if (this.acked.has(seq)) return Promise.resolve(true);
    return new Promise((resolve) => this.ackWaiters.set(seq, resolve));
  }
  /** The agent acks message `seq`. */
  ack(seq: number): void {
    this.acked.add(seq);
    this.ackWaiters.get(seq)?.(true);
  }
  resumeDelivery(): void {
    this.resumed++;
  }
  bytes(): Buffer {
    return Buffer.concat(this.output);
  }
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function setup<T extends MuxForwarder | BasicForwarder>(
  make: (o: ConstructorParameters<typeof BasicForwarder>[0]) => T,
) {
  const channel = new RecordingChannel();
  const events: ConnectionEvent[] = [];
  const forwarder = make({
    channel,
    emit: (e) => events.push(e),
    remoteHost: "db.internal",
    remotePort: 5432,
  });
  cleanups.push(() => forwarder.close());
  return { channel, events, forwarder };
}

async function dial(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  await new Promise((r) => socket.once("connect", r));
  cleanups.push(() => socket.destroy());
  return socket;
}

describe("BasicForwarder", () => {
  test("no connection: tunnel data is not taken; one connection at a time; DisconnectToPort on close", async () => {
    const { channel, events, forwarder } = setup((o) => new BasicForwarder(o));
    const { port } = await forwarder.listen({ host: "127.0.0.1", port: 0 });
    expect(forwarder.onOutput(Uint8Array.of(1))).toBe(false); // readiness gating
    const first = await dial(port);
    await until(() => events.length === 1, 2000);
    expect(channel.resumed).toBe(1); // held data may now be delivered
    const second = await dial(port);
    second.write("queued");
    first.write("one");
    await until(() => channel.bytes().toString() === "one", 2000);
    const received: Buffer[] = [];
    first.on("data", (d: Buffer) => received.push(d));
    expect(forwarder.onOutput(new TextEncoder().encode("to first"))).toBe(true);
    await until(() => Buffer.concat(received).toString() === "to first", 2000);
    first.end();
    await until(() => channel.flags.length === 1, 2000);
    expect(channel.flags).toEqual([FlagValue.DisconnectToPort]);
    await until(() => channel.bytes().toString() === "onequeued", 2000); // the second connection only now
    expect(events.map((e) => e.type)).toEqual([
      "connection-opened",
      "connection-closed",
      "connection-opened",
    ]);
  });

  test("output of a closed connection (after DisconnectToPort, before the ack of the next connection's first data) is acked and discarded", async () => {
    const { channel, forwarder } = setup((o) => new BasicForwarder(o));
    const { port } = await forwarder.listen({ host: "127.0.0.1", port: 0 });
    const first = await dial(port);
    first.write("q1");
    await until(() => channel.bytes().toString() === "q1", 2000);
    first.destroy();
    await until(() => channel.flags.length === 1, 2000);
    // The agent had read the old server's last bytes (a TLS close_notify, say) and sends them now.
    expect(forwarder.onOutput(new TextEncoder().encode("stale close_notify"))).toBe(true); // acked
    const second = await dial(port);
    const received: Buffer[] = [];
    second.on("data", (d: Buffer) => received.push(d));
    await until(() => channel.resumed >= 2, 2000);
    expect(forwarder.onOutput(new TextEncoder().encode("more stale"))).toBe(true); // no connection data yet
    const firstDataSeq = channel.nextSequence;
    second.write("q2");
    await until(() => channel.bytes().toString() === "q1q2", 2000);
    expect(forwarder.onOutput(new TextEncoder().encode("still stale"))).toBe(true); // before the agent's ack
    channel.ack(firstDataSeq);
    await until(async () => {
      await Bun.sleep(0);
      return forwarder.onOutput(new TextEncoder().encode("fresh")) && received.length > 0;
    }, 2000);
    expect(Buffer.concat(received).toString()).toBe("fresh");
    expect(forwarder.staleBytesDiscarded).toBe(
      "stale close_notify".length + "more stale".length + "still stale".length,
    );
  });
});

describe("MuxForwarder", () => {
  test("each connection is an smux stream; the agent's FIN closes the socket; our FIN follows local close", async () => {
    const { channel, events, forwarder } = setup((o) => new MuxForwarder(o, 0));
    const { port } = await forwarder.listen({ host: "127.0.0.1", port: 0 });
    const a = await dial(port);
    await until(() => events.length === 1, 2000);
    a.write("hello");
    await until(() => channel.bytes().length >= 8 + 8 + 5, 2000);
    const frames = new SmuxFrameDecoder().push(channel.bytes());
    expect(frames.map((f) => [f.cmd, f.streamId])).toEqual([
      [SmuxCmd.Syn, 3],
      [SmuxCmd.Psh, 3],
    ]);
    const closed = new Promise((r) => a.once("close", r));
    expect(forwarder.onOutput(encodeSmuxFrame(SmuxCmd.Fin, 3))).toBe(true);
    await closed;
    await until(() => events.length === 2, 2000);
    expect(events[1]).toMatchObject({ type: "connection-closed", id: 3, bytesOut: 5 });
  });

  test("ConnectToPortError is paired with the stream the agent FINs without data, in either order", async () => {
    const { events, forwarder } = setup((o) => new MuxForwarder(o, 0));
    const { port } = await forwarder.listen({ host: "127.0.0.1", port: 0 });
    await dial(port);
    await dial(port);
    await until(() => events.length === 2, 2000);
    forwarder.onFlag(FlagValue.ConnectToPortError); // flag first, then FIN
    forwarder.onOutput(encodeSmuxFrame(SmuxCmd.Fin, 3));
    forwarder.onOutput(encodeSmuxFrame(SmuxCmd.Fin, 5)); // FIN first, then flag
    forwarder.onFlag(FlagValue.ConnectToPortError);
    await until(() => events.filter((e) => e.type === "connection-failed").length === 2, 2000);
    const failed = events.filter((e) => e.type === "connection-failed");
    expect(failed.map((e) => e.id)).toEqual([3, 5]);
    expect(failed[0]).toMatchObject({ host: "db.internal", port: 5432 });
    expect(failed[0]?.type === "connection-failed" && failed[0].message).toContain("db.internal:5432");
  });

  test("a full channel pauses every local socket; onWritable resumes them", async () => {
    const { channel, events, forwarder } = setup((o) => new MuxForwarder(o, 0));
    const { port } = await forwarder.listen({ host: "127.0.0.1", port: 0 });
    const a = await dial(port);
    await until(() => events.length === 1, 2000);
    channel.writable = false;
    a.write("x");
    await until(() => channel.bytes().length > 16, 2000);
    const before = channel.bytes().length;
    a.write("y"); // read side paused: stays in the kernel
    await Bun.sleep(100);
    expect(channel.bytes().length).toBe(before);
    channel.writable = true;
    forwarder.onWritable();
    await until(() => channel.bytes().length > before, 2000);
  });
});

describe("listen", () => {
  test("a busy port is LocalPortInUse naming the port and --local-port", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    cleanups.push(() => blocker.close());
    const busy = (blocker.address() as { port: number }).port;
    const { forwarder } = setup((o) => new MuxForwarder(o, 0));
    const error = await forwarder.listen({ host: "127.0.0.1", port: busy }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TunnelError);
    expect((error as TunnelError).code).toBe("LocalPortInUse");
    expect((error as TunnelError).message).toContain(String(busy));
    expect((error as TunnelError).message).toContain("--local-port");
  });

  test("localConnectionType unix listens on the socket path", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dbtunnel-unix-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, "tunnel.sock");
    const { events, forwarder } = setup((o) => new MuxForwarder(o, 0));
    const address = await forwarder.listen({ host: "127.0.0.1", port: 0, unixSocket: path });
    expect(address).toEqual({ host: path, port: 0 });
    const socket = connect(path);
    cleanups.push(() => socket.destroy());
    await until(() => events.length === 1, 2000);
  });
});
