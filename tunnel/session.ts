/**
 * One port-forwarding session from an existing {SessionId, StreamUrl, TokenValue}: data channel,
 * handshake, mode selection, local listener, termination. `openTunnel`/`attachTunnel` (index.ts) wrap it.
 */
import type { Socket } from "node:net";
import { type AgentMessage, DecodeError, decodeFlag, FlagValue, PayloadType } from "./codec.ts";
import { DataChannel, type DataChannelStats } from "./data-channel.ts";
import { answerHandshake, parseHandshakeComplete, parseHandshakeRequest } from "./handshake.ts";
import { BasicForwarder, MuxForwarder } from "./port-forwarder.ts";
import { SMUX_KEEPALIVE_INTERVAL_MS } from "./smux-session.ts";
import type { ExistingSession, Tunnel, TunnelCloseReason, TunnelEvent } from "./types.ts";
import { TunnelError } from "./types.ts";
import { type ModeDecision, selectMode } from "./version.ts";

/** How long the agent gets to finish the handshake before opening fails. */
export const HANDSHAKE_TIMEOUT_MS = 30_000;
/** close() waits this long for the TerminateSession flag's ack (§12.8). */
export const TERMINATE_ACK_TIMEOUT_MS = 1000;

export interface SessionControl {
  /** ResumeSession: a new token, or undefined when there is none. */
  resume(sessionId: string): Promise<string | undefined>;
  terminate(sessionId: string): Promise<void>;
}

export interface RunSessionOptions {
  readonly session: ExistingSession;
  readonly control: SessionControl;
  /** Remote host/port for connection-failed events when the handshake properties do not name them. */
  readonly remoteHost?: string;
  readonly remotePort?: number;
  /** Listen port when the handshake's localPortNumber is empty. */
  readonly localPort: number;
  readonly localHost: string;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: TunnelEvent) => void;
  readonly clientId?: string;
  /** @default HANDSHAKE_TIMEOUT_MS */
  readonly handshakeTimeoutMs?: number;
  /** Unacked messages in flight. @default DEFAULT_WINDOW */
  readonly window?: number;
  /** smux NOP interval when the agent needs keepalive (tests shorten it). @default SMUX_KEEPALIVE_INTERVAL_MS */
  readonly keepaliveMs?: number;
  /**
   * false: open no local listener; connections come from `adopt(socket)` (a pool's shared listener).
   * @default true
   */
  readonly listen?: boolean;
}

/** A session whose local connections are handed to it (see RunSessionOptions.listen). */
export interface SessionTunnel extends Tunnel {
  /** Forwards a local connection accepted elsewhere through this session (closed at once if it ended). */
  adopt(socket: Socket): void;
  /** Local connections open on this session now. */
  readonly connectionCount: number;
  /** Data-channel counters and what it holds now. */
  stats(): DataChannelStats;
}

type Forwarder = MuxForwarder | BasicForwarder;

class TunnelSession implements SessionTunnel {
  readonly sessionId: string;
  port = 0;
  host = "";
  mode: "mux" | "basic" = "mux";
  readonly closed: Promise<TunnelCloseReason>;
  readonly channel: DataChannel;

  private readonly listeners = new Set<(event: TunnelEvent) => void>();
  private resolveClosed!: (reason: TunnelCloseReason) => void;
  private forwarder: Forwarder | undefined;
  private decision: ModeDecision | undefined;
  private agentVersion = "";
  private handshakeAnswered = false;
  private finished = false;
  private closing: Promise<void> | undefined;
  private opened = false;
  private readonly opening: Promise<void>;
  private resolveOpening!: () => void;
  private rejectOpening!: (error: TunnelError) => void;
  private readonly abortListener = () => void this.onAbort();

  constructor(private readonly options: RunSessionOptions) {
    this.sessionId = options.session.SessionId;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.opening = new Promise((resolve, reject) => {
      this.resolveOpening = resolve;
      this.rejectOpening = reject;
    });
    this.opening.catch(() => {}); // observed by start(); avoid an unhandled rejection in between
    if (options.onEvent) this.listeners.add(options.onEvent);
    this.channel = new DataChannel({
      streamUrl: options.session.StreamUrl,
      tokenValue: options.session.TokenValue,
      ...(options.clientId ? { clientId: options.clientId } : {}),
      ...(options.window ? { window: options.window } : {}),
      resumeSession: () => options.control.resume(this.sessionId),
      events: {
        onStreamMessage: (message) => this.onStreamMessage(message),
        onChannelClosed: (output) => {
          // During our own close() the agent's channel_closed is the expected answer: shutdown() finishes.
          if (!this.closing) this.finish({ kind: "channel-closed", message: output });
        },
        onWritable: () => this.forwarder?.onWritable(),
        onReconnecting: (attempt, reason) => this.emit({ type: "reconnecting", attempt, reason }),
        onReconnected: () => this.emit({ type: "reconnected" }),
        onFailed: (reason) => {
          // Resends exhausted or a broken channel: the session is useless, end it on the service side too.
          if (reason.kind !== "channel-closed") void this.terminateApi();
          this.finish(reason);
        },
      },
    });
  }

  on(listener: (event: TunnelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  adopt(socket: Socket): void {
    if (this.finished || !this.forwarder) {
      socket.destroy();
      return;
    }
    this.forwarder.adopt(socket);
  }

  get connectionCount(): number {
    return this.forwarder?.connectionCount ?? 0;
  }

  stats(): DataChannelStats {
    return this.channel.snapshot();
  }

  async start(): Promise<void> {
    const signal = this.options.signal;
    if (signal?.aborted) {
      await this.terminateApi();
      throw new TunnelError("Aborted", "opening the tunnel was cancelled");
    }
    signal?.addEventListener("abort", this.abortListener, { once: true });
    this.emit({ type: "session-started", sessionId: this.sessionId });
    const timeoutMs = this.options.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(
      () =>
        this.failOpening(
          new TunnelError(
            "HandshakeFailed",
            `the agent did not complete the session handshake within ${Math.round(timeoutMs / 1000)} s: check the jump host's SSM agent (it must be version 3.x and online)`,
          ),
        ),
      timeoutMs,
    );
    try {
      await this.channel.open().catch((error: unknown) => {
        throw new TunnelError(
          "ConnectionFailed",
          `could not open the Session Manager data channel: ${(error as Error).message}; check network access to ssmmessages`,
          { cause: error },
        );
      });
      await this.opening;
      this.opened = true;
    } catch (error) {
      const tunnelError =
        error instanceof TunnelError
          ? error
          : new TunnelError("ProtocolError", `opening the tunnel failed: ${(error as Error).message}`);
      this.failOpening(tunnelError);
      await this.terminateApi();
      throw tunnelError;
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.finished) return;
    // Flag first (agent cancels the session), wait briefly for its ack, then the API as the backstop.
    const basicWithoutFlag = this.decision !== undefined && !this.decision.terminateFlag;
    if (this.channel.isOpen && !basicWithoutFlag) {
      const seq = this.channel.sendFlag(FlagValue.TerminateSession);
      await this.channel.waitForAck(seq, TERMINATE_ACK_TIMEOUT_MS);
    }
    await this.terminateApi();
    this.finish({ kind: "local" });
  }

  private async onAbort(): Promise<void> {
    if (!this.opened) {
      this.failOpening(new TunnelError("Aborted", "opening the tunnel was cancelled"));
      return;
    }
    await this.close();
  }

  private async terminateApi(): Promise<void> {
    try {
      await this.options.control.terminate(this.sessionId);
    } catch {
      // Best effort: the session also ends on the agent through the flag or the closed channel.
    }
  }

  private failOpening(error: TunnelError): void {
    if (this.opened) return;
    this.rejectOpening(error);
    this.finish({ kind: "error", message: error.message });
  }

  private finish(reason: TunnelCloseReason): void {
    if (this.finished) return;
    this.finished = true;
    this.options.signal?.removeEventListener("abort", this.abortListener);
    this.forwarder?.close();
    this.channel.close();
    if (!this.opened) {
      const message =
        reason.kind === "channel-closed"
          ? reason.message || "the session was closed"
          : "message" in reason
            ? reason.message
            : "closed";
      this.rejectOpening(
        new TunnelError(
          reason.kind === "channel-closed"
            ? "ConnectionFailed"
            : reason.kind === "local"
              ? "Aborted"
              : "ConnectionFailed",
          `the session ended before the tunnel was ready: ${message}`,
        ),
      );
    }
    this.emit({ type: "closed", reason });
    this.listeners.clear();
    this.resolveClosed(reason);
  }

  private emit(event: TunnelEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's bug must not break the tunnel
      }
    }
  }

  /** In-order stream data from the agent; false = not ready (the receiver will not ack it). */
  private onStreamMessage(message: AgentMessage): boolean {
    switch (message.payloadType) {
      case PayloadType.Output:
        return this.forwarder ? this.forwarder.onOutput(message.payload) : false;
      case PayloadType.HandshakeRequest:
        this.onHandshakeRequest(message.payload);
        return true;
      case PayloadType.HandshakeComplete:
        this.onHandshakeComplete(message.payload);
        return true;
      case PayloadType.Flag: {
        let flag: number;
        try {
          flag = decodeFlag(message.payload);
        } catch {
          return true; // acked and ignored: a bad flag must not stall the stream behind it
        }
        this.forwarder?.onFlag(flag);
        return true;
      }
      default:
        // EncChallengeRequest (never for Port), shell payload types: nothing to do.
        return true;
    }
  }

  private onHandshakeRequest(payload: Uint8Array): void {
    if (this.handshakeAnswered) return;
    let answer: ReturnType<typeof answerHandshake>;
    try {
      const request = parseHandshakeRequest(payload);
      this.agentVersion = request.agentVersion;
      answer = answerHandshake(request);
    } catch (error) {
      this.failOpening(
        new TunnelError(
          "HandshakeFailed",
          `the agent's handshake request was unreadable (${error instanceof DecodeError ? error.message : "bad JSON"}): update the SSM agent on the jump host`,
        ),
      );
      return;
    }
    this.handshakeAnswered = true;
    this.channel.sendStreamMessage(PayloadType.HandshakeResponse, answer.payload);
    this.properties = answer.properties;
    if (answer.errors.length > 0) {
      this.failOpening(
        new TunnelError("HandshakeFailed", `${answer.errors.join("; ")}: use a port-forwarding document`),
      );
    } else if (answer.properties.type !== "LocalPortForwarding") {
      this.failOpening(
        new TunnelError(
          "HandshakeFailed",
          "the session document is not a local port forwarding document: use AWS-StartPortForwardingSessionToRemoteHost",
        ),
      );
    }
  }

  private properties: ReturnType<typeof answerHandshake>["properties"] = {};

  private onHandshakeComplete(payload: Uint8Array): void {
    if (this.forwarder || this.finished) return;
    if (!this.handshakeAnswered) {
      this.failOpening(
        new TunnelError(
          "HandshakeFailed",
          "the agent completed a handshake it never requested: update the SSM agent",
        ),
      );
      return;
    }
    try {
      parseHandshakeComplete(payload);
    } catch {
      // The content is informational (time taken, a customer message): a bad one does not stop us.
    }
    const decision = selectMode(this.agentVersion);
    this.decision = decision;
    this.mode = decision.mode;
    this.emit({ type: "handshake-complete", agentVersion: this.agentVersion, mode: decision.mode });
    const props = this.properties;
    const remoteHost = props.host ?? this.options.remoteHost ?? "localhost";
    const remotePort = Number(props.portNumber ?? this.options.remotePort ?? 0);
    const forwarderOptions = {
      channel: this.channel,
      emit: (
        event: TunnelEvent & { type: "connection-opened" | "connection-closed" | "connection-failed" },
      ) => this.emit(event),
      remoteHost,
      remotePort,
    };
    const forwarder =
      decision.mode === "mux"
        ? new MuxForwarder(
            forwarderOptions,
            decision.keepalive ? (this.options.keepaliveMs ?? SMUX_KEEPALIVE_INTERVAL_MS) : 0,
          )
        : new BasicForwarder(forwarderOptions);
    this.forwarder = forwarder;
    // The local port comes from the handshake properties (§8.1); empty or "0" means any free port.
    const fromHandshake = Number.parseInt(props.localPortNumber ?? "", 10);
    const port = Number.isFinite(fromHandshake) ? fromHandshake : this.options.localPort;
    const unixSocket =
      props.localConnectionType === "unix" && props.localUnixSocket ? props.localUnixSocket : undefined;
    if (this.options.listen === false) {
      // Connections are adopted from a listener the caller owns.
      this.resolveOpening();
      this.channel.resumeDelivery();
      return;
    }
    forwarder.listen({ host: this.options.localHost, port, ...(unixSocket ? { unixSocket } : {}) }).then(
      (address) => {
        if (this.finished) return;
        this.host = address.host;
        this.port = address.port;
        this.emit({ type: "listening", host: address.host, port: address.port });
        this.resolveOpening();
        this.channel.resumeDelivery();
      },
      (error: unknown) =>
        this.failOpening(
          error instanceof TunnelError
            ? error
            : new TunnelError(
                "ConnectionFailed",
                `could not open the local listener: ${(error as Error).message}`,
              ),
        ),
    );
  }
}

/** Runs a session from an existing ticket; resolves once the local listener is open. */
export async function runSession(
  options: RunSessionOptions,
): Promise<SessionTunnel & { readonly channel: DataChannel }> {
  const session = new TunnelSession(options);
  await session.start();
  return session;
}

/**
 * The data channel behind a tunnel that runSession made (openTunnel's too), for tests that feed it frames
 * as if they came from the WebSocket; undefined for any other Tunnel (a pool, a wrapper).
 */
export function dataChannelOf(tunnel: Tunnel): DataChannel | undefined {
  return tunnel instanceof TunnelSession ? tunnel.channel : undefined;
}
