/**
 * Relays bytes both ways between the client and the database once the login is done, counting them.
 * One side ending ends the other (after its pending bytes are flushed); an error, or a side that does not
 * close within a grace period after the other closed, destroys both, so no half-dead connection lingers.
 */
import type { Duplex } from "node:stream";
import { stopReading } from "../tunnel/stop-reading.ts";

export interface RelayCounts {
  /** Client → database. */
  readonly bytesIn: number;
  /** Database → client. */
  readonly bytesOut: number;
}

/** How long one side may stay open after the other has closed. */
const CLOSE_GRACE_MS = 2000;

export function relay(client: Duplex, upstream: Duplex): Promise<RelayCounts> {
  if (client.destroyed || upstream.destroyed) {
    client.destroy();
    upstream.destroy();
    return Promise.resolve({ bytesIn: 0, bytesOut: 0 });
  }
  return new Promise((resolve) => {
    let bytesIn = 0;
    let bytesOut = 0;
    let closed = 0;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const destroyBoth = () => {
      client.destroy();
      upstream.destroy();
    };
    const onClose = () => {
      closed += 1;
      if (closed === 1) grace = setTimeout(destroyBoth, CLOSE_GRACE_MS);
      if (closed === 2) {
        clearTimeout(grace);
        resolve({ bytesIn, bytesOut });
      }
    };
    forward(client, upstream, (n) => {
      bytesIn += n;
    });
    forward(upstream, client, (n) => {
      bytesOut += n;
    });
    client.once("end", () => upstream.end());
    upstream.once("end", () => client.end());
    client.once("error", destroyBoth);
    upstream.once("error", destroyBoth);
    client.once("close", onClose);
    upstream.once("close", onClose);
  });
}

/**
 * Copies what `from` reads into `to`, and stops reading `from` while `to` is full: a slow database (or
 * tunnel) slows the client down instead of its bytes piling up here. Not pipe(): it pauses with pause(),
 * which in Bun does not stop a socket's reads (tunnel/stop-reading.ts).
 */
function forward(from: Duplex, to: Duplex, count: (n: number) => void): void {
  let waiting = false;
  from.on("data", (chunk: Buffer) => {
    count(chunk.length);
    if (to.destroyed || to.write(chunk) || waiting) return;
    waiting = true;
    stopReading(from);
    to.once("drain", () => {
      waiting = false;
      from.resume();
    });
  });
  // The login left both sides paused (proxy/stream-reader.ts); a 'data' listener alone does not resume them.
  from.resume();
}
