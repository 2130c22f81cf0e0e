/**
 * Pausing a socket so that it really stops reading.
 *
 * Why: in Bun (checked on 1.4.5) `net.Socket.pause()` only stops 'data' events. The native socket keeps
 * reading into the stream's buffer, because the stream has no high-water mark (`readableHighWaterMark` is
 * undefined) and so never asks it to stop: 16 local connections paused behind a full send window buffered
 * 50 MB of uploads in the tunnel process (bench/tunnel-memory.ts), and TCP back-pressure never reached the
 * client. Pausing the socket's handle as well stops the reads; `socket.resume()` resumes the handle. In
 * Node the handle has no `pause` and `pause()` alone already stops reading, so this is a no-op there.
 */
import type { Duplex } from "node:stream";

interface PausableHandle {
  pause?: () => unknown;
}

/** Pauses `socket` (a net.Socket, or a stream over one) and stops its reads. */
export function stopReading(socket: Duplex): void {
  socket.pause();
  const handle = (socket as unknown as { _handle?: PausableHandle | null })._handle;
  handle?.pause?.();
}
