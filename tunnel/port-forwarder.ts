/**
 * Local side of a Port session (ssm-session-protocol.md §10): a TCP (or Unix socket) listener whose
 * connections are carried over the data channel, either multiplexed with smux (mux mode) or one at a
 * time as raw bytes (basic mode, old agents).
 *
 * Back-pressure both ways, so memory stays bounded whatever the speeds:
 * - upload: while the data channel's outbox is full, every local socket is paused;
 * - download: while local sockets hold more than RECEIVE_BUDGET unwritten bytes, incoming tunnel data is
 *   reported "not ready" (not acked, so the agent retransmits later) and delivery resumes on 'drain'.
 */
import { createServer, type Server, type Socket } from "node:net";
import { FlagValue } from "./codec.ts";
import { SmuxClientSession } from "./smux-session.ts";
import { stopReading } from "./stop-reading.ts";
import { TunnelError, type TunnelEvent } from "./types.ts";

/** Unwritten bytes in local sockets above which tunnel data is not taken (smux's MaxReceiveBuffer). */
export const RECEIVE_BUDGET = 4 * 1024 * 1024;

export type ConnectionEvent = Extract<
  TunnelEvent,
  { type: "connection-opened" | "connection-closed" | "connection-failed" }
>;

/** What a forwarder needs from the data channel. */
export interface ForwarderChannel {
  writeOutput(bytes: Uint8Array): void;
  /** Batch the writeOutput calls until uncork() into as few messages as possible. */
  cork(): void;
  uncork(): void;
  readonly writable: boolean;
  sendFlag(flag: number): number;
  /** Sends a flag after every byte written before it; `sent` gets the flag's sequence number. */
  sendFlagAfterOutput(flag: number, sent?: (seq: number) => void): void;
  /** Sequence number of the next message. */
  readonly nextSequence: number;
  /** Resolves true once message `seq` (sent or still to be sent) is acked (false after `timeoutMs`). */
  waitForAckOf(seq: number, timeoutMs: number): Promise<boolean>;
  resumeDelivery(): void;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** Listen on this Unix socket path instead of TCP (localConnectionType = unix). */
  readonly unixSocket?: string;
}

export interface ForwarderOptions {
  readonly channel: ForwarderChannel;
  readonly emit: (event: ConnectionEvent) => void;
  /** Remote host:port, for connection-failed events. */
  readonly remoteHost: string;
  readonly remotePort: number;
}

interface Connection {
  readonly id: number;
  readonly socket: Socket;
  bytesIn: number;
  bytesOut: number;
  closed: boolean;
}

abstract class Forwarder {
  protected readonly server: Server;
  protected readonly connections = new Map<number, Connection>();
  /** Sockets whose write() returned false and that have not drained yet. */
  private readonly congested = new Set<Socket>();
  private deliveryBlocked = false;
  private uploadPaused = false;
  protected closing = false;

  constructor(protected readonly options: ForwarderOptions) {
    this.server = createServer({ noDelay: true, pauseOnConnect: true }, (socket) =>
      this.onConnection(socket),
    );
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  listen(options: ListenOptions): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        if (error.code === "EADDRINUSE") {
          reject(
            new TunnelError(
              "LocalPortInUse",
              `local port ${options.port} on ${options.host} is already in use: choose another one with --local-port, or 0 for any free port`,
              { cause: error },
            ),
          );
        } else {
          reject(
            new TunnelError(
              "ConnectionFailed",
              `could not listen on ${options.unixSocket ?? `${options.host}:${options.port}`}: ${error.message}`,
              { cause: error },
            ),
          );
        }
      };
      this.server.once("error", onError);
      const done = () => {
        this.server.off("error", onError);
        this.server.on("error", () => {}); // later listener errors surface as connection errors
        const address = this.server.address();
        if (typeof address === "object" && address) resolve({ host: address.address, port: address.port });
        else resolve({ host: options.unixSocket ?? String(address), port: 0 });
      };
      if (options.unixSocket) this.server.listen(options.unixSocket, done);
      else this.server.listen({ host: options.host, port: options.port, exclusive: true }, done);
    });
  }

  /** PayloadType Output bytes from the agent, in order. False = cannot take them now (no ack). */
  abstract onOutput(payload: Uint8Array): boolean;

  /** A flag from the agent. */
  abstract onFlag(flag: number): void;

  /** The data channel has room again: resume reading local sockets. */
  onWritable(): void {
    if (!this.uploadPaused) return;
    this.uploadPaused = false;
    for (const connection of this.connections.values()) {
      if (this.isReading(connection)) connection.socket.resume();
    }
  }

  /**
   * Takes a local connection accepted by someone else's listener (a pool's): it is forwarded like one this
   * forwarder accepted. The caller should have accepted it paused (`pauseOnConnect`).
   */
  adopt(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    stopReading(socket);
    this.onConnection(socket);
  }

  close(): void {
    this.closing = true;
    if (this.server.listening) this.server.close();
    for (const connection of this.connections.values()) connection.socket.destroy();
    this.connections.clear();
    this.congested.clear();
  }

  protected abstract onConnection(socket: Socket): void;

  /** Whether this connection's socket should be read from now (basic mode parks waiting sockets). */
  protected isReading(_connection: Connection): boolean {
    return true;
  }

  /** Forwards a chunk read from a local socket; pauses reading while the channel is full. */
  protected upload(connection: Connection, chunk: Uint8Array, send: (chunk: Uint8Array) => void): void {
    connection.bytesOut += chunk.length;
    send(chunk);
    if (!this.options.channel.writable && !this.uploadPaused) {
      this.uploadPaused = true;
      for (const c of this.connections.values()) stopReading(c.socket);
    }
  }

  protected resumeIfRunning(connection: Connection): void {
    if (!this.uploadPaused) connection.socket.resume();
  }

  /** True while local sockets can take more tunnel data. */
  protected canDeliver(): boolean {
    if (this.congested.size === 0) return true;
    let pending = 0;
    for (const socket of this.congested) pending += socket.writableLength;
    if (pending < RECEIVE_BUDGET) return true;
    this.deliveryBlocked = true;
    return false;
  }

  /** Writes tunnel data to a local socket and tracks its congestion. */
  protected deliver(connection: Connection, data: Uint8Array): void {
    if (connection.closed) return;
    connection.bytesIn += data.length;
    // `data` is a view into a WebSocket read of up to hundreds of KiB. A socket that already has writes
    // queued keeps the chunk by reference until it drains: a copy keeps only these bytes alive (queued
    // views of 16 slow sockets pinned over 100 MB of chunks for 4 MiB of data).
    const socket = connection.socket;
    const bytes = socket.writableLength > 0 ? Buffer.from(data) : data;
    if (!socket.write(bytes) && !this.congested.has(connection.socket)) {
      const socket = connection.socket;
      this.congested.add(socket);
      socket.once("drain", () => this.uncongest(socket));
    }
  }

  protected uncongest(socket: Socket): void {
    if (!this.congested.delete(socket)) return;
    if (this.deliveryBlocked && this.canDeliver()) {
      this.deliveryBlocked = false;
      this.options.channel.resumeDelivery();
    }
  }

  protected track(id: number, socket: Socket): Connection {
    const connection: Connection = { id, socket, bytesIn: 0, bytesOut: 0, closed: false };
    this.connections.set(id, connection);
    socket.setNoDelay(true);
    return connection;
  }

  /** Forgets a connection once; reports connection-closed. */
  protected untrack(connection: Connection): boolean {
    if (connection.closed) return false;
    connection.closed = true;
    this.connections.delete(connection.id);
    this.uncongest(connection.socket);
    connection.socket.destroy();
    if (!this.closing) {
      this.options.emit({
        type: "connection-closed",
        id: connection.id,
        bytesIn: connection.bytesIn,
        bytesOut: connection.bytesOut,
      });
    }
    return true;
  }
}

/** How long an agent FIN on a stream that never got data waits for a ConnectToPortError flag to match it. */
const FAILED_DIAL_MATCH_MS = 5000;

/** Mux mode: one smux stream per local connection; full close when either side ends (§10.3). */
export class MuxForwarder extends Forwarder {
  private readonly smux: SmuxClientSession;
  /** ConnectToPortError flags not yet matched with a stream. */
  private unmatchedErrors = 0;
  /** Streams the agent FINed without sending data: candidates for a later ConnectToPortError. */
  private readonly silentFins: { id: number; at: number }[] = [];

  constructor(options: ForwarderOptions, keepaliveMs: number) {
    super(options);
    this.smux = new SmuxClientSession({ output: (bytes) => options.channel.writeOutput(bytes), keepaliveMs });
  }

  onOutput(payload: Uint8Array): boolean {
    if (!this.canDeliver()) return false;
    this.smux.push(payload);
    return true;
  }

  onFlag(flag: number): void {
    if (flag !== FlagValue.ConnectToPortError) return;
    // The agent sends the flag and FINs the stream; it does not say which stream, so pair them up in order.
    const now = Date.now();
    while (this.silentFins.length > 0 && now - (this.silentFins[0]?.at ?? now) > FAILED_DIAL_MATCH_MS) {
      this.silentFins.shift();
    }
    const fin = this.silentFins.shift();
    if (fin) this.reportFailed(fin.id);
    else this.unmatchedErrors++;
  }

  override close(): void {
    super.close();
    this.smux.close();
  }

  protected onConnection(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    let connection: Connection | undefined;
    const id = this.smux.openStream({
      onData: (data) => {
        if (connection) this.deliver(connection, data);
      },
      onFin: () => {
        if (!connection) return;
        if (connection.bytesIn === 0) this.noteSilentFin(connection.id);
        // Full close: flush what we wrote, then close even if the local client keeps its side open.
        const socket = connection.socket;
        socket.end(() => socket.destroy());
      },
    });
    connection = this.track(id, socket);
    const conn = connection;
    this.options.emit({ type: "connection-opened", id });
    socket.on("data", (chunk: Buffer) =>
      this.upload(conn, chunk, (c) => {
        const channel = this.options.channel;
        channel.cork();
        this.smux.write(id, c);
        channel.uncork();
      }),
    );
    socket.on("end", () => this.finish(conn));
    socket.on("close", () => this.finish(conn));
    socket.on("error", () => this.finish(conn));
    this.resumeIfRunning(conn);
  }

  private finish(connection: Connection): void {
    if (this.untrack(connection)) this.smux.closeStream(connection.id);
  }

  private noteSilentFin(id: number): void {
    if (this.unmatchedErrors > 0) {
      this.unmatchedErrors--;
      this.reportFailed(id);
      return;
    }
    this.silentFins.push({ id, at: Date.now() });
    if (this.silentFins.length > 64) this.silentFins.shift();
  }

  private reportFailed(id: number): void {
    this.options.emit({
      type: "connection-failed",
      id,
      host: this.options.remoteHost,
      port: this.options.remotePort,
      message: `the agent could not connect to ${this.options.remoteHost}:${this.options.remotePort} (ConnectToPortError); check that the database is running and its security group admits the jump host`,
    });
  }
}

/** Basic mode (agents ≤ 3.0.196.0): one local connection at a time, raw bytes, DisconnectToPort on close (§10.4). */
export class BasicForwarder extends Forwarder {
  private active: Connection | undefined;
  private readonly waiting: Connection[] = [];
  private nextId = 1;
  /**
   * Output from here on belongs to a closed connection: between our DisconnectToPort and the agent's ack
   * of the next connection's first data (the message that makes the agent redial, port_basic.go), every
   * byte the agent sends was read from the OLD destination connection (e.g. the server's TLS
   * close_notify). It is acked and discarded, never written into the next connection.
   */
  private stale = false;
  /** The active connection's first data message has not been written yet. */
  private awaitingFirstData = false;
  /** A DisconnectToPort waits for the closed connection's last bytes: new connections wait too. */
  private switching = false;
  /** Bytes of closed connections' output discarded (for tests and diagnostics). */
  staleBytesDiscarded = 0;

  onOutput(payload: Uint8Array): boolean {
    if (this.stale) {
      this.staleBytesDiscarded += payload.length;
      return true;
    }
    // No local connection yet: do not ack, the agent keeps the bytes and retransmits.
    if (!this.active || !this.canDeliver()) return false;
    this.deliver(this.active, payload);
    return true;
  }

  onFlag(_flag: number): void {
    // Agents send no flags in basic mode; unlike the plugin we never write a flag into the connection.
  }

  protected override isReading(connection: Connection): boolean {
    return connection === this.active;
  }

  protected onConnection(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const connection = this.track(this.nextId++, socket);
    socket.on("data", (chunk: Buffer) =>
      this.upload(connection, chunk, (c) => {
        const channel = this.options.channel;
        if (this.awaitingFirstData && connection === this.active) {
          // The outbox is empty (the flag went out after the old bytes), so this is the next message.
          this.awaitingFirstData = false;
          const firstSeq = channel.nextSequence;
          void channel.waitForAckOf(firstSeq, 2 ** 31 - 1).then(() => {
            if (this.active === connection || !this.active) this.stale = false;
          });
        }
        channel.writeOutput(c);
      }),
    );
    socket.on("end", () => this.finish(connection));
    socket.on("close", () => this.finish(connection));
    socket.on("error", () => this.finish(connection));
    if (this.active || this.switching) this.waiting.push(connection);
    else this.activate(connection);
  }

  private activate(connection: Connection): void {
    this.active = connection;
    this.options.emit({ type: "connection-opened", id: connection.id });
    this.resumeIfRunning(connection);
    this.options.channel.resumeDelivery(); // bytes the agent has been retransmitting can land now
  }

  private finish(connection: Connection): void {
    const wasActive = connection === this.active;
    if (!this.untrack(connection)) return;
    if (!wasActive) {
      const index = this.waiting.indexOf(connection);
      if (index >= 0) this.waiting.splice(index, 1);
      return;
    }
    this.active = undefined;
    if (this.closing) return;
    // After the closed connection's last bytes, or the agent would redial and write them into the next.
    this.switching = true;
    this.options.channel.sendFlagAfterOutput(FlagValue.DisconnectToPort, () => {
      this.switching = false;
      this.stale = true;
      this.awaitingFirstData = true;
      this.options.channel.resumeDelivery(); // held output of the closed connection: ack and discard
      const next = this.waiting.shift();
      if (next && !this.closing) this.activate(next);
    });
  }
}
