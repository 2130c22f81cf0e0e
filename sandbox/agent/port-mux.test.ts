/**
 * The mux port session on its own, against real TCP destinations: inbound back-pressure (a destination
 * that stops reading makes client data "not ready" until it drains) and a real refused dial.
 */
import { afterEach, expect, test } from "bun:test";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
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
  readyCalls: number;
  readonly stats: ReturnType<typeof createStats>;
}

function harness(port: number): Harness {
  const decoder = new SmuxFrameDecoder();
  const stats = createStats("s", "i-0", "3.3.987.0", 1);
  const h = { frames: [] as SmuxFrame[], flags: [] as number[], readyCalls: 0, stats } as Harness;
  const ctx: PortContext = {
    host: "db.internal",
    port: 5432,
    resolveDestination: async () => ({ host: "127.0.0.1", port }),
    refuseDial: () => false,
    output: (bytes) => h.frames.push(...decoder.push(bytes)),
    sendFlag: (flag) => h.flags.push(flag),
    canSend: () => true,
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

test("a destination that stops reading makes client data not ready until it drains", async () => {
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
  let refused = false;
  for (let i = 0; i < 2000 && !refused; i++) {
    if (h.session.inbound(chunk) === "handled") handled++;
    else refused = true;
    if (i % 64 === 0) await Bun.sleep(1); // let the socket flush into the kernel buffers
  }
  expect(refused).toBe(true);
  // At least the 8 MiB high-water mark was accepted before refusing.
  expect(handled * 32_768).toBeGreaterThan(8 * 1024 * 1024);
  expect(h.readyCalls).toBe(0);
  (accepted as Socket).resume();
  await until(() => h.readyCalls > 0, 10_000);
  expect(h.session.inbound(chunk)).toBe("handled");
  await until(() => received === (handled + 1) * 32_768, 10_000);
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
