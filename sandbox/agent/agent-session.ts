/**
 * One Session Manager session as the agent + MGS see it (ssm-session-protocol.md §13): it outlives
 * WebSocket connections (ResumeSession re-attaches with a new token and all sequence state survives),
 * runs the handshake, then a mux or basic port session, and ends with channel_closed.
 */
import { randomUUID } from "node:crypto";
import {
  type AgentMessage,
  decodeFlag,
  encodeAgentMessage,
  encodeFlag,
  FlagValue,
  MessageType,
  PayloadType,
} from "../../tunnel/codec.ts";
import type { DestinationResolver, FaultPlan, SessionStats } from "../gateway/types.ts";
import {
  encodeHandshakeComplete,
  encodeHandshakeRequest,
  type PortProperties,
  parseHandshakeResponse,
} from "./handshake.ts";
import { OutputPump } from "./output-pump.ts";
import { BasicPortSession } from "./port-basic.ts";
import { MuxPortSession } from "./port-mux.ts";
import type { PortContext, PortSession } from "./port-session.ts";
import { createPrng, type Prng } from "./prng.ts";
import { type Delivery, ReliableChannel } from "./reliable-channel.ts";
import { createStats, type MutableStats, snapshotStats } from "./stats.ts";
import { decidePortMode } from "./version.ts";

export const DEFAULT_AGENT_VERSION = "3.3.987.0";

/** The part of a WebSocket the session uses (Bun's ServerWebSocket satisfies it). */
export interface AgentSocket {
  send(data: Uint8Array): number;
  close(code?: number, reason?: string): void;
}

/** Agent timings; tests shorten them. Defaults are the agent's and smux's. */
export interface AgentTimings {
  /** @default 15 000 */
  readonly handshakeTimeoutMs?: number;
  /** smux NOP interval. @default 10 000 */
  readonly keepaliveIntervalMs?: number;
  /** smux idle check period. @default 30 000 */
  readonly keepaliveTimeoutMs?: number;
  /** How long a TerminateSession flag waits for the outgoing buffer to drain. @default 2000 */
  readonly terminateDrainMs?: number;
}

export interface AgentSessionOptions {
  readonly sessionId: string;
  readonly target: string;
  /** Token of the StartSession response. */
  readonly token: string;
  readonly properties: PortProperties;
  readonly faults: FaultPlan;
  readonly resolveDestination: DestinationResolver;
  /** @default true */
  readonly verifyDigests?: boolean;
  readonly timings?: AgentTimings;
  readonly log?: (line: string) => void;
}

type Phase = "new" | "handshaking" | "ready" | "terminated";

export class AgentSession {
  readonly id: string;
  /** The token a WebSocket must present; replaced by ResumeSession. */
  token: string | undefined;
  private plan: FaultPlan;
  private prng: Prng;
  private readonly stats: MutableStats;
  private readonly channel: ReliableChannel;
  private readonly pump: OutputPump;
  private socket: AgentSocket | undefined;
  private phase: Phase = "new";
  private port: PortSession | undefined;
  private handshakeStartedAt = 0;
  private handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  private terminating = false;
  private readonly closedWaiters: (() => void)[] = [];
  /** When the session last had no WebSocket attached (creation counts). */
  private detachedSince: number | undefined = Date.now();

  constructor(private readonly opts: AgentSessionOptions) {
    this.id = opts.sessionId;
    this.token = opts.token;
    this.plan = opts.faults;
    this.prng = createPrng(opts.faults.seed);
    this.stats = createStats(
      opts.sessionId,
      opts.target,
      opts.faults.agentVersion ?? DEFAULT_AGENT_VERSION,
      this.prng.seed,
    );
    this.channel = new ReliableChannel({
      stats: this.stats,
      faults: () => ({ plan: this.plan, prng: this.prng }),
      deliver: (message) => this.deliver(message),
      onCloseWebSocketFault: () => this.dropSocket("fault injection: closeWebSocketAfter"),
      onWindowOpen: () => this.port?.resume(),
      verifyDigests: opts.verifyDigests !== false,
      log: (line) => this.log(line),
    });
    this.pump = new OutputPump((payload) => this.channel.sendStreamData(PayloadType.Output, payload));
  }

  get terminated(): boolean {
    return this.phase === "terminated";
  }

  get faults(): FaultPlan {
    return this.plan;
  }

  /** Replaces the fault plan of this live session (re-seeds the PRNG, re-arms closeWebSocketAfter). */
  setFaults(plan: FaultPlan): void {
    this.plan = plan;
    this.prng = createPrng(plan.seed);
    this.stats.seed = this.prng.seed;
    this.channel.resetFaultCounters();
  }

  snapshot(): SessionStats {
    return snapshotStats(this.stats);
  }

  /** A WebSocket presented the current token: it now carries the session. */
  attach(socket: AgentSocket): void {
    if (this.phase === "terminated") {
      socket.close(1000, "session terminated");
      return;
    }
    const previous = this.socket;
    this.socket = socket;
    if (previous && previous !== socket) previous.close(1000, "replaced by a newer connection");
    this.stats.webSocketConnections++;
    this.detachedSince = undefined;
    this.channel.attach((frame) => {
      this.socket?.send(frame);
    });
    if (this.phase === "new") this.startHandshake();
  }

  /** The WebSocket closed (client, network or fault): keep all state for a ResumeSession reconnect. */
  detach(socket: AgentSocket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.detachedSince = Date.now();
    this.channel.detach();
  }

  /** Milliseconds without an attached WebSocket (0 while one is attached). */
  idleFor(now = Date.now()): number {
    return this.detachedSince === undefined ? 0 : now - this.detachedSince;
  }

  /** A binary frame from the attached WebSocket. */
  receive(socket: AgentSocket, frame: Uint8Array): void {
    if (socket !== this.socket) return;
    this.channel.receive(frame);
  }

  /** Ends the session: channel_closed to the client, close the socket, release every resource. */
  terminate(reason: string, output = ""): void {
    if (this.phase === "terminated") return;
    this.phase = "terminated";
    this.stats.terminated = true;
    this.stats.terminateReason = reason;
    this.log(`session ${this.id} terminated: ${reason}`);
    clearTimeout(this.handshakeTimer);
    this.port?.dispose();
    this.pump.discard();
    this.channel.sendUnsequenced(this.channelClosedFrame(output));
    this.channel.close();
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, "channel closed");
    for (const resolve of this.closedWaiters.splice(0)) resolve();
  }

  /** Resolves when the session is terminated. */
  closed(): Promise<void> {
    if (this.phase === "terminated") return Promise.resolve();
    return new Promise((resolve) => this.closedWaiters.push(resolve));
  }

  private log(line: string): void {
    this.opts.log?.(`[${this.id}] ${line}`);
  }

  private dropSocket(why: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.log(`closing the WebSocket: ${why}`);
    this.detach(socket);
    socket.close(1011, why);
  }

  private startHandshake(): void {
    this.phase = "handshaking";
    this.handshakeStartedAt = performance.now();
    const props = this.opts.properties;
    this.channel.sendStreamData(
      PayloadType.HandshakeRequest,
      encodeHandshakeRequest(this.stats.agentVersion, props),
    );
    this.handshakeTimer = setTimeout(
      () =>
        this.terminate(
          "handshake timed out",
          "Handshake timed out. Please ensure that you have the latest version of the session manager plugin.",
        ),
      this.opts.timings?.handshakeTimeoutMs ?? 15_000,
    );
  }

  /** One in-order client stream-data message (§6, §7.4, §10). */
  private deliver(message: AgentMessage): Delivery {
    if (this.phase === "terminated") return "not-ready";
    switch (message.payloadType) {
      case PayloadType.HandshakeResponse:
        if (this.phase === "handshaking") this.finishHandshake(message.payload);
        return "handled";
      case PayloadType.Flag:
        return this.onFlag(message.payload);
      case PayloadType.Output:
        // Before the handshake is complete the agent acks and discards client data (§7.4).
        if (this.phase !== "ready" || !this.port) return "handled";
        return this.port.inbound(message.payload);
      default:
        return "handled"; // EncChallengeResponse and anything else: acked and ignored
    }
  }

  private onFlag(payload: Uint8Array): Delivery {
    let flag: number;
    try {
      flag = decodeFlag(payload);
    } catch {
      return "handled";
    }
    if (flag === FlagValue.TerminateSession) {
      this.stats.terminateFlagReceived = true;
      if (!this.terminating) {
        this.terminating = true;
        // Ack first (this returns "handled"), then drain up to 2 s and close, as the agent does.
        queueMicrotask(async () => {
          this.pump.flush();
          await this.channel.waitDrained(this.opts.timings?.terminateDrainMs ?? 2000);
          this.terminate("TerminateSession flag");
        });
      }
    } else if (flag === FlagValue.DisconnectToPort) {
      this.port?.disconnect();
    }
    return "handled";
  }

  private finishHandshake(payload: Uint8Array): void {
    clearTimeout(this.handshakeTimer);
    const result = parseHandshakeResponse(payload);
    this.stats.clientVersion = result.clientVersion;
    if (result.failure) {
      // The agent cancels the session when an action failed (§8.2).
      queueMicrotask(() => this.terminate(`handshake failed: ${result.failure}`, result.failure));
      return;
    }
    const props = this.opts.properties;
    const mode = decidePortMode(this.stats.agentVersion, result.clientVersion, props.type);
    this.stats.mode = mode.mux ? "mux" : "basic";
    this.stats.keepalive = mode.keepalive;
    const elapsed = performance.now() - this.handshakeStartedAt;
    // After the ack of the HandshakeResponse (sent when this returns), as in the spec's sequence (§1).
    queueMicrotask(() => {
      if (this.phase === "ready") {
        this.channel.sendStreamData(PayloadType.HandshakeComplete, encodeHandshakeComplete(elapsed));
      }
    });
    this.stats.handshakeComplete = true;
    this.phase = "ready";
    const ctx: PortContext = {
      host: props.host ?? "localhost",
      port: Number(props.portNumber),
      resolveDestination: this.opts.resolveDestination,
      refuseDial: () => this.plan.refuseDial === true,
      output: (bytes) => this.pump.write(bytes),
      sendFlag: (flag) => {
        this.pump.flush();
        this.channel.sendStreamData(PayloadType.Flag, encodeFlag(flag));
      },
      canSend: () => this.channel.canSend,
      onReady: () => this.channel.retryPending(),
      onFatal: (reason) => this.terminate(reason, reason),
      stats: this.stats,
      log: (line) => this.log(line),
    };
    const timings = this.opts.timings;
    this.port = mode.mux
      ? new MuxPortSession(
          ctx,
          mode.keepalive
            ? {
                intervalMs: timings?.keepaliveIntervalMs ?? 10_000,
                timeoutMs: timings?.keepaliveTimeoutMs ?? 30_000,
              }
            : undefined,
        )
      : new BasicPortSession(ctx);
  }

  /** channel_closed as MGS sends it (§6.4): not sequenced, JSON payload with the reason in Output. */
  private channelClosedFrame(output: string): Uint8Array {
    const messageId = randomUUID();
    const now = Date.now();
    const payload = new TextEncoder().encode(
      JSON.stringify({
        MessageId: messageId,
        CreatedDate: String(now),
        DestinationId: this.opts.target,
        SessionId: this.id,
        MessageType: MessageType.ChannelClosed,
        SchemaVersion: 1,
        Output: output,
      }),
    );
    return encodeAgentMessage({
      messageType: MessageType.ChannelClosed,
      sequenceNumber: 0,
      payloadType: PayloadType.None,
      payload,
      messageId,
      createdDate: now,
    });
  }
}
