/**
 * The data channel's WebSocket client (RFC 6455, client role) against a real server (Bun.serve, plain and
 * TLS) and against a raw TCP server that writes frames by hand for the cases a real server never sends.
 */
import { afterEach, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeSelfSigned } from "../test-support/certificates.ts";
import { readBytes } from "../test-support/read-bytes.ts";
import { until, waitFor } from "../test-support/wait.ts";
import { stopReading } from "./stop-reading.ts";
import { READ_PAUSE_BACKLOG_BYTES, WebSocketClient } from "./websocket-client.ts";
import { encodeClientFrame, writeClientFrame } from "./websocket-frame.ts";

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

function echoServer(tls?: { cert: string; key: string }) {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    ...(tls ? { tls } : {}),
    fetch(req, s) {
      return s.upgrade(req) ? undefined : new Response("upgrade", { status: 426 });
    },
    websocket: {
      message(ws, message) {
        ws.send(message);
      },
    },
  });
  cleanup.push(() => server.stop(true));
  return server;
}

function events(ws: WebSocketClient) {
  const seen: { opened: boolean; errors: number; messages: (Uint8Array | string)[]; close?: number } = {
    opened: false,
    errors: 0,
    messages: [],
  };
  ws.onopen = () => {
    seen.opened = true;
  };
  ws.onerror = () => {
    seen.errors++;
  };
  ws.onmessage = (e) => seen.messages.push(e.data);
  ws.onclose = (e) => {
    seen.close = e.code;
  };
  return seen;
}

test("binary and text messages round-trip byte-exact through a real server; one turn's sends are buffered together", async () => {
  const server = echoServer();
  const ws = new WebSocketClient(`ws://127.0.0.1:${server.port}/path?x=1`);
  const seen = events(ws);
  await until(() => seen.opened);
  const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) & 0xff);
  for (const size of [0, 1, 125, 126, 1144, 65_535]) ws.send(big.subarray(0, size));
  ws.send(big);
  ws.send("hé");
  // Nothing is written until this turn ends: all eight frames are waiting in one batch.
  expect(ws.bufferedAmount).toBeGreaterThan(70_000 + 65_535 + 1144);
  await until(() => seen.messages.length === 8);
  const sizes = seen.messages.map((m) => (typeof m === "string" ? m : m.length));
  expect(sizes).toEqual([0, 1, 125, 126, 1144, 65_535, 70_000, "hé"]);
  for (const [i, size] of [0, 1, 125, 126, 1144, 65_535, 70_000].entries()) {
    expect(Buffer.from(seen.messages[i] as Uint8Array).equals(Buffer.from(big.subarray(0, size)))).toBe(true);
  }
  ws.close(1000);
  await until(() => seen.close !== undefined);
  expect(seen.close).toBe(1000);
  expect(ws.readyState).toBe(WebSocketClient.CLOSED);
});

test("masking: every frame carries a key and unmasks to the payload", () => {
  const payload = Uint8Array.from({ length: 1023 }, (_, i) => i & 0xff);
  const keys = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const frame = encodeClientFrame(2, payload);
    expect(frame[0]).toBe(0x82);
    expect(frame[1]).toBe(0x80 | 126);
    const key = frame.subarray(4, 8);
    keys.add(Buffer.from(key).toString("hex"));
    const unmasked = frame.subarray(8).map((b, j) => b ^ (key[j % 4] as number));
    expect(Buffer.from(unmasked).equals(Buffer.from(payload))).toBe(true);
  }
  expect(keys.size).toBeGreaterThan(45);
});

test("masking in a shared buffer at every alignment gives the same bytes a server unmasks", () => {
  for (let at = 0; at < 8; at++) {
    for (const size of [0, 1, 3, 4, 5, 7, 130, 1144]) {
      const payload = Uint8Array.from({ length: size }, (_, i) => (i * 13 + at) & 0xff);
      const buffer = new ArrayBuffer(at + 8 + size + 8);
      const out = new Uint8Array(buffer);
      const end = writeClientFrame(out, new Uint32Array(buffer, 0, buffer.byteLength >>> 2), at, 2, payload);
      const header = size < 126 ? 2 : 4;
      expect(end).toBe(at + header + 4 + size);
      const key = out.subarray(at + header, at + header + 4);
      const unmasked = out.subarray(at + header + 4, end).map((b, j) => b ^ (key[j % 4] as number));
      expect(Buffer.from(unmasked).equals(Buffer.from(payload))).toBe(true);
    }
  }
});

/** A raw TCP server: answers the upgrade (optionally wrongly) and hands the socket to the test. */
async function rawServer(badAccept = false): Promise<{ port: number; next: () => Promise<Socket> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      const key = /sec-websocket-key: (.*)\r\n/i.exec(head)?.[1] ?? "";
      const accept = createHash("sha1")
        .update(`${badAccept ? "x" : ""}${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
        .digest("base64");
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      sockets.push(socket);
    };
    socket.on("data", onData);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {
    port: (server.address() as AddressInfo).port,
    next: async () => {
      await until(() => sockets.length > 0);
      return sockets.shift() as Socket;
    },
  };
}

/** A client connected to a raw server: the server's side (upgrade answered, not yet open for the client). */
async function clientOnRawServer() {
  const { port, next } = await rawServer();
  const ws = new WebSocketClient(`ws://127.0.0.1:${port}`);
  const seen = events(ws);
  return { ws, seen, server: await next() };
}

/** Unmasked server frame. */
function serverFrame(opcode: number, payload: Uint8Array | string, fin = true, masked = false): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload);
  const head = Buffer.from([(fin ? 0x80 : 0) | opcode, (masked ? 0x80 : 0) | body.length]);
  return masked ? Buffer.concat([head, Buffer.alloc(4), body]) : Buffer.concat([head, body]);
}

/** Collects the client's frames (unmasked) as the server reads them. */
function clientFrames(socket: Socket): { opcode: number; payload: Buffer }[] {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let buf = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 6) {
      const length = (buf[1] as number) & 0x7f; // the tests' frames are short
      if (buf.length < 6 + length) return;
      const key = buf.subarray(2, 6);
      const payload = Buffer.from(buf.subarray(6, 6 + length).map((b, i) => b ^ (key[i % 4] as number)));
      frames.push({ opcode: (buf[0] as number) & 0x0f, payload });
      buf = buf.subarray(6 + length);
    }
  });
  return frames;
}

test("a wrong Sec-WebSocket-Accept is an error: no open, close 1006", async () => {
  const { port } = await rawServer(true);
  const ws = new WebSocketClient(`ws://127.0.0.1:${port}`);
  const seen = events(ws);
  await until(() => seen.close !== undefined);
  expect(seen).toMatchObject({ opened: false, errors: 1, close: 1006 });
});

test("a server that never answers the upgrade is given up after the handshake timeout", async () => {
  const server: Server = createServer(() => {}); // accepts, never answers
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => server.close());
  const ws = new WebSocketClient(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, {
    handshakeTimeoutMs: 100,
  });
  const seen = events(ws);
  await until(() => seen.close !== undefined);
  expect(seen).toMatchObject({ opened: false, errors: 1, close: 1006 });
});

test("fragments are joined, pings answered with the same payload, the server's close code reported and echoed", async () => {
  const { seen, server } = await clientOnRawServer();
  const frames = clientFrames(server);
  await until(() => seen.opened);
  server.write(
    Buffer.concat([
      serverFrame(1, "hel", false),
      serverFrame(9, "are you there"),
      serverFrame(0, "lo", true),
      serverFrame(2, Uint8Array.of(1, 2, 3)),
    ]),
  );
  await until(() => seen.messages.length === 2 && frames.length === 1);
  expect(seen.messages[0]).toBe("hello");
  expect([...(seen.messages[1] as Uint8Array)]).toEqual([1, 2, 3]);
  expect(frames[0]).toEqual({ opcode: 10, payload: Buffer.from("are you there") });
  server.write(serverFrame(8, Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from("bye")])));
  await until(() => frames.length === 2);
  expect(frames[1]?.opcode).toBe(8);
  expect(frames[1]?.payload.readUInt16BE(0)).toBe(4001);
  server.end();
  await until(() => seen.close !== undefined);
  expect(seen.close).toBe(4001);
});

test("frames cut anywhere across socket reads (headers included) arrive whole and in order", async () => {
  const { seen, server } = await clientOnRawServer();
  await until(() => seen.opened);
  const sizes = [1, 125, 126, 127, 1144, 3000, 65_535, 70_000, 2];
  const payloads = sizes.map((n, k) => Uint8Array.from({ length: n }, (_, i) => (i + k * 7) & 0xff));
  const wire = Buffer.concat(
    payloads.map((p) => {
      const head =
        p.length < 126
          ? Buffer.from([0x82, p.length])
          : p.length < 65_536
            ? Buffer.from([0x82, 126, p.length >> 8, p.length & 0xff])
            : Buffer.concat([Buffer.from([0x82, 127, 0, 0, 0, 0]), Buffer.from(new Uint32Array([0]).buffer)]);
      if (p.length >= 65_536) head.writeUInt32BE(p.length, 6);
      return Buffer.concat([head, p]);
    }),
  );
  const pieces = [1, 3, 9, 300, 5000, 2];
  for (let at = 0, k = 0; at < wire.length; k++) {
    const n = pieces[k % pieces.length] as number;
    server.write(wire.subarray(at, at + n));
    at += n;
    await new Promise((resolve) => setImmediate(resolve)); // let each piece be its own read
  }
  await until(() => seen.messages.length === sizes.length);
  for (const [i, p] of payloads.entries()) {
    expect(Buffer.from(seen.messages[i] as Uint8Array).equals(Buffer.from(p))).toBe(true);
  }
});

test("bursts bigger than the write-buffer pool into a server that reads nothing arrive byte-exact once it reads (no buffer reused while queued)", async () => {
  const { ws, seen, server } = await clientOnRawServer();
  stopReading(server);
  await until(() => seen.opened);
  // 48 turns × 40 messages of 16 KiB (640 KiB, three write buffers, per turn): 30 MiB, more than loopback's
  // socket buffers hold, so writes queue in the client while later turns take buffers from the pool. Every
  // byte of a message carries the message's number.
  const count = 48 * 40;
  for (let turn = 0; turn < 48; turn++) {
    for (let i = 0; i < 40; i++) ws.send(new Uint8Array(16 * 1024).fill((turn * 40 + i) % 251));
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(ws.bufferedAmount).toBeGreaterThan(0);
  const frameBytes = 4 + 4 + 16 * 1024;
  const wire = await readBytes(server, count * frameBytes);
  for (let k = 0; k < count; k++) {
    const at = k * frameBytes;
    expect([wire[at], wire[at + 1], wire.readUInt16BE(at + 2)]).toEqual([0x82, 0x80 | 126, 16 * 1024]);
    const key = wire.subarray(at + 4, at + 8);
    const payload = wire.subarray(at + 8, at + frameBytes).map((b, j) => b ^ (key[j & 3] as number));
    if (payload.some((b) => b !== k % 251))
      throw new Error(`message ${k} arrived with another message's bytes`);
  }
  ws.close(1000);
});

test("a server that sends and does not read: the client stops reading at its backlog bound, then answers everything once the server reads", async () => {
  const { ws, seen, server } = await clientOnRawServer();
  stopReading(server);
  await until(() => seen.opened);
  // 16 MiB of pings: every one is answered with a pong (what acks are to data), ~16.5 MiB the server does
  // not read. Without the bound the client reads all the pings and holds the pongs.
  const ping = serverFrame(9, new Uint8Array(125).fill(1));
  const count = Math.floor((16 * 1024 * 1024) / ping.length);
  server.write(Buffer.concat(Array.from({ length: count }, () => ping)));
  await until(() => ws.bufferedAmount >= READ_PAUSE_BACKLOG_BYTES, 10_000);
  // Reading has stopped: for half a second the backlog must not reach the bound plus the pongs of the one
  // socket read that crossed it (without the bound it does within milliseconds).
  expect(await waitFor(() => ws.bufferedAmount >= 2 * READ_PAUSE_BACKLOG_BYTES, 500)).toBe(false);

  const pongBytes = 2 + 4 + 125;
  expect((await readBytes(server, count * pongBytes)).length).toBe(count * pongBytes);
  expect(seen.close).toBeUndefined();
  ws.close(1000);
});

test("a masked frame from the server fails the connection with 1002", async () => {
  const { seen, server } = await clientOnRawServer();
  const frames = clientFrames(server);
  await until(() => seen.opened);
  server.write(serverFrame(2, "x", true, true));
  await until(() => frames.length === 1);
  expect(frames[0]?.opcode).toBe(8);
  expect(frames[0]?.payload.readUInt16BE(0)).toBe(1002);
  expect(seen.messages).toEqual([]);
  server.end();
  await until(() => seen.close !== undefined);
  expect(seen.close).toBe(1002);
});

test("wss: the server certificate is verified (name and trust); with its CA the channel works", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dbtunnel-wss-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const made = makeSelfSigned(dir, "server", { commonName: "localhost", dnsName: "localhost" });
  const cert = readFileSync(made.certPath, "utf8");
  const server = echoServer({ cert, key: readFileSync(made.keyPath, "utf8") });

  const untrusted = new WebSocketClient(`wss://localhost:${server.port}`);
  const refused = events(untrusted);
  await until(() => refused.close !== undefined, 5000);
  expect(refused).toMatchObject({ opened: false, errors: 1, close: 1006 });

  const ws = new WebSocketClient(`wss://localhost:${server.port}`, { tls: { ca: cert } });
  const seen = events(ws);
  await until(() => seen.opened, 5000);
  ws.send(Uint8Array.of(9, 8, 7));
  await until(() => seen.messages.length === 1);
  expect([...(seen.messages[0] as Uint8Array)]).toEqual([9, 8, 7]);
  ws.close();
  await until(() => seen.close !== undefined);
});
