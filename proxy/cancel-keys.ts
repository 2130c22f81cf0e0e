/**
 * PostgreSQL cancel keys. The client sees the server's process id (so pg_cancel_backend and GUIs' session
 * views still make sense) but a secret key of our own; a CancelRequest is forwarded only when both match a
 * live connection of this proxy, with the server's real key. A local process that guesses nothing cannot
 * cancel the engineer's queries, and the real keys never leave the proxy.
 */
import { randomInt } from "node:crypto";

export interface UpstreamKey {
  readonly pid: number;
  readonly secret: number;
}

export class CancelKeys {
  private readonly keys = new Map<string, UpstreamKey>();

  /** Registers a connection's server key; returns the key the client gets. Call the returned `forget` on close. */
  register(upstream: UpstreamKey): { clientKey: UpstreamKey; forget: () => void } {
    let clientKey: UpstreamKey;
    let id: string;
    do {
      clientKey = { pid: upstream.pid, secret: randomInt(-0x80000000, 0x7fffffff) };
      id = keyId(clientKey);
    } while (this.keys.has(id));
    this.keys.set(id, upstream);
    return { clientKey, forget: () => this.keys.delete(id) };
  }

  /** The server key for a client-visible key, or undefined if no live connection has it. */
  lookup(clientKey: UpstreamKey): UpstreamKey | undefined {
    return this.keys.get(keyId(clientKey));
  }

  get size(): number {
    return this.keys.size;
  }
}

function keyId(key: UpstreamKey): string {
  return `${key.pid}:${key.secret}`;
}
