/**
 * The mux port session on its own, against real TCP destinations (amazon-ssm-agent
 * agent/session/plugins/port/port_mux.go): the smux stream read 1024 bytes per 1 ms, the reader blocking on smux's 4 MiB
 * receive buffer while a destination does not read, and a real refused dial.
 */
import { afterEach, expect, test } from "bun:test";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { ManualClock } from "../../test-support/manual-clock.ts";
import { until } from "../../test-support/wait.ts";
import { FlagValue } from "../../tunnel/codec.ts";
import { encodeSmuxFrame, SmuxCmd, type SmuxFrame, SmuxFrameDecoder } from "../../tunnel/smux-frame.ts";
import { freePort } from "../ports.ts";
import { MuxPortSession } from "./port-mux.ts";
import type { PortContext } from "./port-session.ts";
import { createStats } from "./stats.ts";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

interface Harness {
  readonly session: MuxPortSession;
  readonly frames: SmuxFrame[];
  readonly flags: number[];
  /** Sizes of the output calls: one per data-channel message. */
  readonly outputs: number[];
  readyCalls: number;
  blocks: number;
  unblocks: number;
  readonly clock: ManualClock;
  readonly stats: ReturnType<typeof createStats>;
}

function harness(port: number, paced = true): Harness {
  const decoder = new SmuxFrameDecoder();
  const stats = createStats("s", "i-0", "3.3.987.0", 1);
  const clock = new ManualClock();
  const h = {
    frames: [] as SmuxFrame[],
    flags: [] as number[],
    outputs: [] as number[],
    readyCalls: 0,
    blocks: 0,
    unblocks: 0,
    clock,
    stats,
  } as Harness;
  const ctx: PortContext = {
    host: "db.internal",
    port: 5432,
    resolveDestination: async () => ({ host: "127.0.0.1", port }),
    refuseDial: () => false,
    output: (bytes) => {
      h.outputs.push(bytes.length);
      h.frames.push(...decoder.push(bytes));
    },
    sendFlag: (flag) => h.flags.push(flag),
    blockReader: () => {
      h.blocks++;
    },
    unblockReader: () => {
      h.unblocks++;
    },
    clock,
    paced,
    isActive: () => true,
    onReady: () => {
      h.readyCalls++;
    },
    onFatal: (reason) => {
      throw new Error(reason);
    },
    stats,
    log: () => {},
  };
  (h as { session: MuxPortSession }).session = new MuxPortSession(ctx);
  cleanup.push(() => h.session.dispose());
  return h;
}

test("the smux stream is read 1024 bytes at a time with a 1 ms sleep after each read; frames carry up to 32 KiB (port_mux.go transferDataToMgs, io.Copy)", async () => {
  const server: Server = createServer((socket) => socket.end(Buffer.alloc(10 * 1024, 1)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => server.close());
  const h = harness((server.address() as AddressInfo).port);
  h.session.inbound(encodeSmuxFrame(SmuxCmd.Syn, 3));
  const pshBytes = () => h.frames.filter((f) => f.cmd === SmuxCmd.Psh).reduce((n, f) => n + f.data.length, 0);
  // The destination is copied as it is read; the first read of the socket goes out at once.
  await until(() => h.outputs.length === 1 && h.session.outputBacklog > 0);
  await until(() => h.session.outputBacklog + 1024 >= 10 * 1024 + 8 + 8); // data, its header(s), the FIN
  const stream = 1024 + h.session.outputBacklog;
  const pshFrames = (stream - 10 * 1024 - 8) / 8; // every frame costs an 8-byte header, not a message
  expect(pshFrames).toBeLessThanOrEqual(2);
  const reads = Math.ceil(stream / 1024);
  for (let ms = 1; ms < reads; ms++) {
    expect(h.outputs.length).toBe(ms); // nothing more until the sleep has passed
    h.clock.advance(1);
  }
  expect(h.outputs.length).toBe(reads);
  expect(h.outputs.slice(0, -1).every((n) => n === 1024)).toBe(true);
  expect(pshBytes()).toBe(10 * 1024);
  expect(h.frames.at(-1)?.cmd).toBe(SmuxCmd.Fin); // FIN follows the data
  h.clock.advance(5);
  expect(h.outputs.length).toBe(reads);
});

test("the agent's FIN for a stream the client closed follows the bytes already in smux's socket", async () => {
  const server: Server = createServer((socket) => socket.write(Buffer.alloc(4 * 1024, 2)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => server.close());
  const h = harness((server.address() as AddressInfo).port);
  h.session.inbound(encodeSmuxFrame(SmuxCmd.Syn, 3));
  await until(() => h.session.outputBacklog >= 3 * 1024 + 8); // read from the destination, not sent yet
  h.session.inbound(encodeSmuxFrame(SmuxCmd.Fin, 3));
  for (let ms = 0; ms < 10; ms++) h.clock.advance(1);
  expect(h.frames.map((f) => f.cmd)).toEqual([SmuxCmd.Psh, SmuxCmd.Fin]); // decodes cleanly, FIN last
  expect(h.frames[0]?.data.length).toBe(4 * 1024);
});

test("unpaced (the CPU-cost switch): destination bytes go out as they arrive", async () => {
  const server: Server = createServer((socket) => socket.end(Buffer.alloc(64 * 1024, 1)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => server.close());
  const h = harness((server.address() as AddressInfo).port, false);
  h.session.inbound(encodeSmuxFrame(SmuxCmd.Syn, 3));
  await until(() => h.frames.some((f) => f.cmd === SmuxCmd.Fin));
  const total = h.frames.filter((f) => f.cmd === SmuxCmd.Psh).reduce((n, f) => n + f.data.length, 0);
  expect(total).toBe(64 * 1024);
  expect(h.clock.pending).toBe(0); // no clock involved
});

test("a destination that stops reading blocks the agent's reader beyond smux's 4 MiB buffer until it drains", async () => {
  let accepted: Socket | undefined;
  let received = 0;
  const server: Server = createServer((socket) => {
    accepted = socket;
    socket.pause(); // a destination that does not read
    socket.on("data", (d) => {
      received += d.length;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => server.close());
  const h = harness((server.address() as AddressInfo).port);
  expect(h.session.inbound(encodeSmuxFrame(SmuxCmd.Syn, 3))).toBe("handled");
  await until(() => accepted !== undefined);
  const chunk = encodeSmuxFrame(SmuxCmd.Psh, 3, Buffer.alloc(32_768, 7));
  let handled = 0;
  // The data channel stops calling inbound() once the reader is blocked.
  for (let i = 0; i < 2000 && h.blocks === 0; i++) {
    expect(h.session.inbound(chunk)).toBe("handled");
    handled++;
    if (i % 64 === 0) await Bun.sleep(1); // let the socket flush into the kernel buffers
  }
  expect(h.blocks).toBe(1);
  // At least smux's 4 MiB receive buffer was taken before blocking.
  expect(handled * 32_768).toBeGreaterThan(4 * 1024 * 1024);
  expect(h.unblocks).toBe(0);
  (accepted as Socket).resume();
  await until(() => h.unblocks === 1, 10_000);
  expect(h.session.inbound(chunk)).toBe("handled");
  await until(() => received === (handled + 1) * 32_768, 10_000);
});

test("data that filled smux's buffer while the destination was still dialing unblocks the reader once the dial completes", async () => {
  let received = 0;
  const server: Server = createServer((socket) => {
    socket.on("data", (d) => {
      received += d.length;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => server.close());
  const h = harness((server.address() as AddressInfo).port);
  // Sixteen clients upload at once: their data arrives before any of the dials completes.
  const chunk = (id: number) => encodeSmuxFrame(SmuxCmd.Psh, id, Buffer.alloc(32_768, 7));
  let sent = 0;
  for (let id = 3; id < 35 && h.blocks === 0; id += 2) {
    h.session.inbound(encodeSmuxFrame(SmuxCmd.Syn, id));
    for (let i = 0; i < 16 && h.blocks === 0; i++) {
      h.session.inbound(chunk(id));
      sent += 32_768;
    }
  }
  expect(h.blocks).toBe(1); // more than smux's 4 MiB waits for dials
  // No destination ever had to say 'drain': the flush after connecting must unblock the reader itself.
  await until(() => h.unblocks === 1, 4_000);
  await until(() => received === sent, 4_000);
});

test("a refused connection sends ConnectToPortError and FINs the stream", async () => {
  const h = harness(await freePort()); // nothing listens there
  h.session.inbound(encodeSmuxFrame(SmuxCmd.Syn, 3));
  await until(() => h.flags.length > 0);
  expect(h.flags).toEqual([FlagValue.ConnectToPortError]);
  await until(() => h.frames.length > 0);
  expect(h.frames).toEqual([{ cmd: SmuxCmd.Fin, streamId: 3, data: new Uint8Array(0) }]);
  expect(h.stats.dialFailures).toBe(1);
  // Data for the dead stream is discarded; the session still accepts new streams.
  expect(h.session.inbound(encodeSmuxFrame(SmuxCmd.Psh, 3, Buffer.from("late")))).toBe("handled");
});
