/**
 * Destination server for the tunnel tests (what the agent emulator dials), and its client side. One
 * connection speaks one of:
 *   'E'            echo every byte back;
 *   'D' + u32 n    send n deterministic bytes, then close;
 *   'U' + u32 n    read n bytes, answer with their SHA-256 (32 raw bytes), then close.
 */
import { createHash } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";

export interface Destination {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: () => number;
  stop(): Promise<void>;
}

/** Deterministic bytes: position i holds (i * 31 + (i >>> 8)) & 0xff, so shifted or lost bytes change the hash. */
export function patternBytes(offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const p = offset + i;
    out[i] = (p * 31 + (p >>> 8)) & 0xff;
  }
  return out;
}

export function patternSha256(length: number): string {
  const hash = createHash("sha256");
  const chunk = 1 << 20;
  for (let offset = 0; offset < length; offset += chunk) {
    hash.update(patternBytes(offset, Math.min(chunk, length - offset)));
  }
  return hash.digest("hex");
}

export async function startDestination(): Promise<Destination> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    serve(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    host: "127.0.0.1",
    port,
    accepted: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function serve(socket: Socket): void {
  let header = Buffer.alloc(0);
  const onHeader = (chunk: Buffer) => {
    header = Buffer.concat([header, chunk]);
    const mode = String.fromCharCode(header[0] ?? 0);
    if (mode === "E") {
      socket.off("data", onHeader);
      socket.pipe(socket);
      if (header.length > 1) socket.write(header.subarray(1));
      return;
    }
    if (header.length < 5) return;
    socket.off("data", onHeader);
    const n = header.readUInt32BE(1);
    const rest = header.subarray(5);
    if (mode === "D") download(socket, n);
    else if (mode === "U") upload(socket, n, rest);
    else socket.destroy();
  };
  socket.on("data", onHeader);
}

function download(socket: Socket, total: number): void {
  let offset = 0;
  const chunk = 64 * 1024;
  const pump = () => {
    while (offset < total) {
      const n = Math.min(chunk, total - offset);
      const ok = socket.write(patternBytes(offset, n));
      offset += n;
      if (!ok) {
        socket.once("drain", pump);
        return;
      }
    }
    socket.end();
  };
  pump();
}

function upload(socket: Socket, total: number, first: Buffer): void {
  const hash = createHash("sha256");
  let received = 0;
  const take = (chunk: Buffer) => {
    const n = Math.min(chunk.length, total - received);
    hash.update(chunk.subarray(0, n));
    received += n;
    if (received >= total) {
      socket.off("data", take);
      socket.end(hash.digest());
    }
  };
  socket.on("data", take);
  if (first.length > 0) take(first);
}

/* The client side of the same protocol, for tests and benches that talk to a destination (or a tunnel to it). */

/** Connects to 127.0.0.1:port. */
export function dialDestination(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** The 5-byte request header: mode 'D' or 'U' and the byte count. */
export function requestHeader(mode: "D" | "U", n: number): Buffer {
  const b = Buffer.alloc(5);
  b.write(mode, 0);
  b.writeUInt32BE(n, 1);
  return b;
}

/** Reads until the socket ends; resolves with the SHA-256 hex and length of everything received. */
export function drainHash(socket: Socket): Promise<{ sha: string; length: number }> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    let length = 0;
    socket.on("data", (d: Buffer) => {
      hash.update(d);
      length += d.length;
    });
    socket.once("end", () => resolve({ sha: hash.digest("hex"), length }));
    socket.once("error", reject);
  });
}

/** Asks for n pattern bytes; resolves with the SHA-256 hex and length of what arrived. */
export async function downloadFrom(port: number, n: number): Promise<{ sha: string; length: number }> {
  const socket = await dialDestination(port);
  const done = drainHash(socket);
  socket.write(requestHeader("D", n));
  const result = await done;
  socket.destroy();
  return result;
}

/** Sends n pattern bytes; resolves with the SHA-256 hex the destination answers (its first 32 bytes). */
export async function uploadTo(port: number, n: number): Promise<string> {
  const socket = await dialDestination(port);
  const digest = await uploadOver(socket, n);
  socket.destroy();
  return digest;
}

/**
 * Sends an upload request and n pattern bytes over a connected socket (honouring back-pressure); resolves
 * with the SHA-256 hex the destination answers. The caller owns the socket (a benchmark times this alone).
 */
export async function uploadOver(socket: Socket, n: number): Promise<string> {
  // Resolve on the 32-byte digest, not on EOF: basic mode has no way to tell us the destination closed.
  const reply = new Promise<Buffer>((resolve, reject) => {
    let got = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 32) resolve(got);
    });
    socket.once("end", () => resolve(got));
    socket.once("error", reject);
  });
  socket.write(requestHeader("U", n));
  const chunk = 256 * 1024;
  for (let offset = 0; offset < n; offset += chunk) {
    if (!socket.write(patternBytes(offset, Math.min(chunk, n - offset)))) {
      await new Promise((r) => socket.once("drain", r));
    }
  }
  const digest = await reply;
  return digest.subarray(0, 32).toString("hex");
}
