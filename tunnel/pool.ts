/**
 * A local listener that outlives its sessions, over a pool of N sessions to the same target.
 *
 * - Each new local connection goes to the live session with the fewest open connections and stays there
 *   (a connection cannot move between sessions). The agent caps one session's download near 0.6-1 MB/s
 *   (it reads its destination 1024 bytes per millisecond), so N sessions give N times that to parallel
 *   work (pg_dump --jobs, GUIs, pgbench).
 * - When a session ends (terminated elsewhere, idle timeout, maximum duration, ResumeSession refused or
 *   without a token, the agent gone), its open connections are closed and reported in one
 *   `session-ended` event; the listener stays open and a replacement session is started in the background
 *   at once, then with exponential backoff (1 s doubling to 30 s) while starting fails. A connection that
 *   arrives while no session is live waits for one (up to `connectionWaitMs`).
 * - Each StartSession goes through the SSM client's credential provider, so refreshed credentials (SSO,
 *   assume-role) are used; `beforeReopen` lets the caller make sure the jump host runs again.
 */
import { createServer, type Server, type Socket } from "node:net";
import { openSession } from "./index.ts";
import type { SessionTunnel } from "./session.ts";
import { type OpenTunnelOptions, type TunnelCloseReason, TunnelError, type TunnelEvent } from "./types.ts";

export interface TunnelPoolOptions extends Omit<OpenTunnelOptions, "onEvent" | "signal"> {
  /** Sessions kept open. @default 1 (a resilient listener) */
  readonly sessions?: number;
  /**
   * Runs before every replacement StartSession, e.g. to start a stopped jump host; may answer a new target
   * (an ECS task replaced meanwhile). @default none
   */
  readonly beforeReopen?: () => Promise<undefined | { readonly target: string }>;
  /** First delay between failed starts of a replacement session; doubles up to maxRetryDelayMs. @default 1000 */
  readonly retryDelayMs?: number;
  /** @default 30 000 */
  readonly maxRetryDelayMs?: number;
  /** How long a local connection waits for a live session before it is closed. @default 60 000 */
  readonly connectionWaitMs?: number;
  readonly onEvent?: (event: PoolEvent) => void;
  /** Starts one session without a listener. @default openSession (tests and the proxy inject their own) */
  readonly openSession?: (
    options: Omit<OpenTunnelOptions, "localPort" | "localHost">,
  ) => Promise<SessionTunnel>;
}

/** What a pool reports. Never carries tokens or payload bytes. */
export type PoolEvent =
  | { readonly type: "listening"; readonly host: string; readonly port: number }
  | {
      readonly type: "session-opened";
      readonly slot: number;
      readonly sessionId: string;
      readonly mode: "mux" | "basic";
    }
  | {
      readonly type: "session-ended";
      readonly slot: number;
      readonly sessionId: string;
      readonly reason: TunnelCloseReason;
      /** Local connections that were open on it and are now closed. */
      readonly closedConnections: number;
    }
  | {
      readonly type: "session-start-failed";
      readonly slot: number;
      readonly attempt: number;
      readonly message: string;
      readonly retryInMs: number;
    }
  | {
      readonly type: "connection";
      readonly slot: number;
      readonly sessionId: string;
      readonly event: TunnelEvent;
    }
  /** No session became live within connectionWaitMs: the local connection was closed. */
  | { readonly type: "connection-refused"; readonly message: string }
  | { readonly type: "closed" };

export interface TunnelPool {
  readonly host: string;
  readonly port: number;
  /** Live sessions and their open connections, slot order. */
  sessions(): { readonly slot: number; readonly sessionId: string; readonly connections: number }[];
  on(listener: (event: PoolEvent) => void): () => void;
  /** Closes the listener and every session (TerminateSession each). Idempotent. */
  close(): Promise<void>;
  readonly closed: Promise<void>;
}

interface Slot {
  readonly index: number;
  session: SessionTunnel | undefined;
  starting: boolean;
  failures: number;
  cancelRetry: (() => void) | undefined;
}

interface Waiting {
  readonly socket: Socket;
  readonly timer: ReturnType<typeof setTimeout>;
}

const DEFAULT_LOCAL_HOST = "127.0.0.1";

/** Opens the listener and N sessions; resolves once the listener is up and one session is live. */
export async function openTunnelPool(options: TunnelPoolOptions): Promise<TunnelPool> {
  const count = options.sessions ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 32) {
    throw new TunnelError(
      "InvalidDocument",
      `sessions must be an integer from 1 to 32, got ${JSON.stringify(count)}: pass --sessions 1..32`,
    );
  }
  const pool = new Pool(options, count);
  await pool.start();
  return pool;
}

class Pool implements TunnelPool {
  host = "";
  port = 0;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly server: Server;
  private readonly slots: Slot[];
  private readonly waiting: Waiting[] = [];
  private readonly listeners = new Set<(event: PoolEvent) => void>();
  private closing: Promise<void> | undefined;
  private target: string;

  constructor(
    private readonly options: TunnelPoolOptions,
    count: number,
  ) {
    this.target = options.target;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    if (options.onEvent) this.listeners.add(options.onEvent);
    this.slots = Array.from({ length: count }, (_, index) => ({
      index,
      session: undefined,
      starting: false,
      failures: 0,
      cancelRetry: undefined,
    }));
    this.server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) =>
      this.onConnection(socket),
    );
  }

  on(listener: (event: PoolEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  sessions() {
    return this.slots.flatMap((slot) =>
      slot.session
        ? [{ slot: slot.index, sessionId: slot.session.sessionId, connections: slot.session.connectionCount }]
        : [],
    );
  }

  async start(): Promise<void> {
    await this.listen();
    // The first round must show whether sessions can be started at all (access denied, target offline).
    const first = await Promise.allSettled(this.slots.map((slot) => this.openSlot(slot, false)));
    if (!this.slots.some((slot) => slot.session)) {
      const failure = first.find((r): r is PromiseRejectedResult => r.status === "rejected");
      await this.close();
      throw failure?.reason instanceof Error
        ? failure.reason
        : new TunnelError("ConnectionFailed", "no session could be started");
    }
    for (const slot of this.slots) if (!slot.session) this.scheduleRetry(slot);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const slot of this.slots) slot.cancelRetry?.();
      for (const w of this.waiting.splice(0)) {
        clearTimeout(w.timer);
        w.socket.destroy();
      }
      if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
      await Promise.all(this.slots.map((slot) => slot.session?.close()));
      this.emit({ type: "closed" });
      this.listeners.clear();
      this.resolveClosed();
    })();
    return this.closing;
  }

  private listen(): Promise<void> {
    const host = this.options.localHost ?? DEFAULT_LOCAL_HOST;
    const port = this.options.localPort ?? 0;
    return new Promise((resolve, reject) => {
      this.server.once("error", (error: NodeJS.ErrnoException) =>
        reject(
          error.code === "EADDRINUSE"
            ? new TunnelError(
                "LocalPortInUse",
                `local port ${port} on ${host} is already in use: choose another one with --local-port, or 0 for any free port`,
                { cause: error },
              )
            : new TunnelError("ConnectionFailed", `could not listen on ${host}:${port}: ${error.message}`, {
                cause: error,
              }),
        ),
      );
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.removeAllListeners("error");
        this.server.on("error", () => {});
        const address = this.server.address();
        if (typeof address === "object" && address) {
          this.host = address.address;
          this.port = address.port;
        }
        this.emit({ type: "listening", host: this.host, port: this.port });
        resolve();
      });
    });
  }

  /** Starts a session in this slot; rejects with the TunnelError when StartSession/handshake fail. */
  private async openSlot(slot: Slot, reopening: boolean): Promise<void> {
    if (this.closing || slot.session || slot.starting) return;
    slot.starting = true;
    try {
      if (reopening) {
        const fresh = await this.options.beforeReopen?.();
        if (fresh?.target) this.target = fresh.target;
      }
      const open = this.options.openSession ?? openSession;
      const {
        sessions: _n,
        beforeReopen: _b,
        retryDelayMs: _r,
        maxRetryDelayMs: _m,
        connectionWaitMs: _c,
        onEvent: _e,
        openSession: _o,
        localPort: _lp,
        localHost: _lh,
        ...sessionOptions
      } = this.options;
      const session = await open({
        ...sessionOptions,
        target: this.target,
        onEvent: (event) => {
          if (event.type.startsWith("connection-")) {
            this.emit({ type: "connection", slot: slot.index, sessionId: session.sessionId, event });
          }
        },
      });
      if (this.closing) {
        await session.close();
        return;
      }
      slot.session = session;
      slot.failures = 0;
      this.emit({
        type: "session-opened",
        slot: slot.index,
        sessionId: session.sessionId,
        mode: session.mode,
      });
      void session.closed.then((reason) => this.onSessionEnded(slot, session, reason));
      this.serveWaiting();
    } finally {
      slot.starting = false;
    }
  }

  private onSessionEnded(slot: Slot, session: SessionTunnel, reason: TunnelCloseReason): void {
    if (slot.session !== session) return;
    slot.session = undefined;
    if (this.closing) return;
    this.emit({
      type: "session-ended",
      slot: slot.index,
      sessionId: session.sessionId,
      reason,
      closedConnections: this.closedOn.get(session) ?? 0,
    });
    // A replacement at once; backoff only while starting fails.
    void this.openSlot(slot, true).catch(() => this.scheduleRetry(slot));
  }

  /** Connections each session had when it ended (counted as they were placed and closed). */
  private readonly closedOn = new WeakMap<SessionTunnel, number>();

  private scheduleRetry(slot: Slot): void {
    if (this.closing || slot.session) return;
    slot.failures++;
    const base = this.options.retryDelayMs ?? 1000;
    const delay = Math.min(this.options.maxRetryDelayMs ?? 30_000, base * 2 ** (slot.failures - 1));
    const timer = setTimeout(() => {
      slot.cancelRetry = undefined;
      this.openSlot(slot, true).catch((error: unknown) => {
        this.emit({
          type: "session-start-failed",
          slot: slot.index,
          attempt: slot.failures,
          message: error instanceof Error ? error.message : String(error),
          retryInMs: Math.min(this.options.maxRetryDelayMs ?? 30_000, base * 2 ** slot.failures),
        });
        this.scheduleRetry(slot);
      });
    }, delay);
    slot.cancelRetry = () => clearTimeout(timer);
  }

  private onConnection(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.on("error", () => {});
    if (!this.place(socket)) {
      const timer = setTimeout(() => {
        const index = this.waiting.findIndex((w) => w.socket === socket);
        if (index >= 0) this.waiting.splice(index, 1);
        socket.destroy();
        this.emit({
          type: "connection-refused",
          message: `no Session Manager session became available within ${Math.round((this.options.connectionWaitMs ?? 60_000) / 1000)} s`,
        });
      }, this.options.connectionWaitMs ?? 60_000);
      this.waiting.push({ socket, timer });
      socket.once("close", () => {
        const index = this.waiting.findIndex((w) => w.socket === socket);
        if (index >= 0) {
          clearTimeout(this.waiting[index]?.timer);
          this.waiting.splice(index, 1);
        }
      });
    }
  }

  /** Hands the socket to the least-loaded live session; false when none is live. */
  private place(socket: Socket): boolean {
    let best: SessionTunnel | undefined;
    for (const slot of this.slots) {
      const session = slot.session;
      if (session && (!best || session.connectionCount < best.connectionCount)) best = session;
    }
    if (!best) return false;
    const session = best;
    session.adopt(socket);
    this.closedOn.set(session, (this.closedOn.get(session) ?? 0) + 1);
    socket.once("close", () => {
      // Count only what is still open when the session ends.
      if (slotOf(this.slots, session))
        this.closedOn.set(session, Math.max(0, (this.closedOn.get(session) ?? 1) - 1));
    });
    return true;
  }

  private serveWaiting(): void {
    while (this.waiting.length > 0) {
      const next = this.waiting[0] as Waiting;
      if (next.socket.destroyed) {
        this.waiting.shift();
        clearTimeout(next.timer);
        continue;
      }
      if (!this.place(next.socket)) return;
      this.waiting.shift();
      clearTimeout(next.timer);
    }
  }

  private emit(event: PoolEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's bug must not break the pool
      }
    }
  }
}

function slotOf(slots: readonly Slot[], session: SessionTunnel): Slot | undefined {
  return slots.find((slot) => slot.session === session);
}
