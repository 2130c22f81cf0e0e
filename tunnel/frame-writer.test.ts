/**
 * The WebSocket client's writer against a real loopback socket whose server reads only when told to.
 */
import { afterEach, expect, test } from "bun:test";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { readBytes } from "../test-support/read-bytes.ts";
import { FrameWriter, WRITE_BUFFER_BYTES } from "./frame-writer.ts";
import { stopReading } from "./stop-reading.ts";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

async function socketPair(): Promise<{ client: Socket; server: Socket }> {
  const accepted = Promise.withResolvers<Socket>();
  const listener = createServer((socket) => accepted.resolve(socket));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const client = connect((listener.address() as AddressInfo).port, "127.0.0.1");
  await new Promise((resolve) => client.once("connect", resolve));
  const server = await accepted.promise;
  cleanup.push(() => {
    client.destroy();
    server.destroy();
    listener.close();
  });
  return { client, server };
}

/** Unmasks the client frames in `wire` (payloads < 64 KiB): their payloads, in order. */
function payloads(wire: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < wire.length; ) {
    const short = (wire[at + 1] as number) & 0x7f;
    const length = short === 126 ? wire.readUInt16BE(at + 2) : short;
    const start = at + (short === 126 ? 4 : 2);
    const key = wire.subarray(start, start + 4);
    out.push(
      Buffer.from(wire.subarray(start + 4, start + 4 + length).map((b, i) => b ^ (key[i & 3] as number))),
    );
    at = start + 4 + length;
  }
  return out;
}

test("one write at a time: frames queued behind a pending write wait in the writer's buffers, in order", async () => {
  const { client, server } = await socketPair();
  stopReading(server);
  const writer = new FrameWriter(client, () => {});
  let mostInSocket = 0;
  // 40 turns × 48 frames of 16 KiB: 30 MiB, far more than loopback's socket buffers hold while the server
  // reads nothing. The caller's buffer is reused for every frame: the writer must have copied each.
  const payload = new Uint8Array(16 * 1024);
  const count = 40 * 48;
  for (let turn = 0; turn < 40; turn++) {
    for (let i = 0; i < 48; i++) writer.queue(2, payload.fill((turn * 48 + i) % 251));
    await new Promise((resolve) => setImmediate(resolve));
    mostInSocket = Math.max(mostInSocket, client.writableLength);
  }
  expect(writer.queuedBytes).toBeGreaterThan(8 * 1024 * 1024);
  // The socket's own queue never held more than the one buffer being written (Bun joins a queue of writes
  // into one new buffer before writing it: a copy of the whole backlog).
  expect(mostInSocket).toBeLessThanOrEqual(WRITE_BUFFER_BYTES);

  const frameBytes = 4 + 4 + 16 * 1024;
  const got = payloads(await readBytes(server, count * frameBytes));
  expect(got.length).toBe(count);
  got.forEach((p, k) => {
    if (p.some((b) => b !== k % 251)) throw new Error(`frame ${k} arrived with another frame's bytes`);
  });
  expect(writer.queuedBytes).toBe(0);
});

test("endAfterFlush ends the socket after everything queued before it", async () => {
  const { client, server } = await socketPair();
  const writer = new FrameWriter(client, () => {});
  for (let i = 0; i < 100; i++) writer.queue(2, new Uint8Array(10_000).fill(i));
  writer.queue(8, new Uint8Array([0x03, 0xe8]));
  writer.endAfterFlush();
  const chunks: Buffer[] = [];
  const ended = new Promise((resolve) => server.once("end", resolve));
  server.on("data", (chunk: Buffer) => chunks.push(chunk));
  await ended;
  const got = payloads(Buffer.concat(chunks));
  expect(got.length).toBe(101);
  expect([...(got[100] as Buffer)]).toEqual([0x03, 0xe8]);
  expect((got[99] as Buffer).every((b) => b === 99)).toBe(true);
});
