/**
 * Destination server for the tunnel tests (what the agent emulator dials). One connection speaks one of:
 *   'E'            echo every byte back;
 *   'D' + u32 n    send n deterministic bytes, then close;
 *   'U' + u32 n    read n bytes, answer with their SHA-256 (32 raw bytes), then close.
 */
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";

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
