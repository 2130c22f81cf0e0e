/**
 * Reading a known number of bytes from a socket in tests (what a test server received once it reads again).
 */
import type { Socket } from "node:net";
import { until } from "./wait.ts";

/** Resumes `socket` and resolves with the bytes it has read once there are at least `n` of them. */
export async function readBytes(socket: Socket, n: number, timeoutMs = 20_000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let received = 0;
  socket.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
  });
  socket.resume();
  await until(() => received >= n, timeoutMs);
  return Buffer.concat(chunks);
}
