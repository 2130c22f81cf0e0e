/**
 * One Session Manager session as the agent + MGS see it (ssm-session-protocol.md §13 and appendix): it
 * outlives WebSocket connections (ResumeSession re-attaches with a new token and all sequence state
 * survives), sends `agent_session_state` Connected, runs the handshake
 * (agent/session/plugins/sessionplugin/sessionplugin.go, agent/session/datachannel/datachannel.go),
 * checks the remote host against the agent's deny list (agent/session/plugins/port/port.go), then runs a
 * mux or basic port session, and ends with channel_closed.
 */
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { type Clock, systemClock } from "../../tunnel/clock.ts";
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
import { AGENT_DENIED_REMOTE_IPS, firstDenied, forbiddenMessage, vpcReservedAddresses } from "./deny-list.ts";
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
  /** Outgoing / incoming buffer capacity in messages. @default 100 000 (the agent's) */
  readonly bufferCapacity?: number;
  /** Time for every timer of the session (resend loop, pacing, keepalive, faults). @default systemClock */
  readonly clock?: Clock;
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
  /** Resolves the document host for the deny list. @default literals and localhost only */
  readonly lookupHost?: (host: string) => Promise<readonly string[]>;
  /** VPC CIDR blocks whose reserved addresses are denied too. @default none */
  readonly vpcCidrs?: readonly string[];
  readonly log?: (line: string) => void;
}

/** The default lookup: literal addresses as themselves, localhost as loopback, other names unresolved. */
async function literalLookup(host: string): Promise<readonly string[]> {
  if (isIP(host) !== 0) return [host];
  if (host.toLowerCase() === "localhost") return ["127.0.0.1", "::1"];
  throw new Error(`no resolver for ${host}`);
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
  private cancelHandshakeTimer: (() => void) | undefined;
  private cancelRecycle: (() => void) | undefined;
  private readonly clock: Clock;
  /** When the session started and when tunnel data last moved (the service's idle clock). */
  readonly startedAt: number;
  private lastDataAt: number;
  private terminating = false;
  private readonly closedWaiters: (() => void)[] = [];
  constructor(private readonly opts: AgentSessionOptions) {
    this.clock = opts.timings?.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.lastDataAt = this.startedAt;
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
    this.stats.paced = opts.faults.unpaced !== true;
    this.channel = new ReliableChannel({
      stats: this.stats,
      clock: this.clock,
      ...(opts.timings?.bufferCapacity ? { capacity: opts.timings.bufferCapacity } : {}),
      onDataActivity: () => {
        this.lastDataAt = this.clock.now();
      },
      faults: () => ({ plan: this.plan, prng: this.prng }),
      deliver: (message) => this.deliver(message),
      onCloseWebSocketFault: () => this.dropSocket("fault injection: closeWebSocketAfter"),
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
    this.channel.attach((frame) => {
      this.socket?.send(frame);
    });
    this.armRecycle();
    if (this.phase === "new") {
      // sessionplugin.go: agent_session_state "Connected" goes out before the handshake request.
      this.channel.sendUnsequenced(this.sessionStateFrame("Connected"));
      this.startHandshake();
    }
  }

  /** The closeWebSocketEveryMs fault: the service recycles the WebSocket (code 1000) after each attach. */
  private armRecycle(): void {
    this.cancelRecycle?.();
    this.cancelRecycle = undefined;
    const every = this.plan.closeWebSocketEveryMs;
    if (every === undefined || every <= 0) return;
    const socket = this.socket;
    this.cancelRecycle = this.clock.after(every, () => {
      if (this.socket !== socket || !socket) return;
      this.stats.faults.webSocketsClosed++;
      this.log("the service closes the WebSocket (1000), as its hourly recycle does");
      this.detach(socket);
      socket.close(1000, "recycled");
    });
  }

  /** The WebSocket closed (client, network or fault): keep all state for a ResumeSession reconnect. */
  detach(socket: AgentSocket): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    this.cancelRecycle?.();
    this.cancelRecycle = undefined;
    this.channel.detach();
  }

  /** Milliseconds since tunnel data last moved either way (the service's idle session timeout). */
  idleFor(now = this.clock.now()): number {
    return now - this.lastDataAt;
  }

  /** Milliseconds since StartSession (the service's maximum session duration). */
  age(now = this.clock.now()): number {
    return now - this.startedAt;
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
    this.cancelHandshakeTimer?.();
    this.cancelRecycle?.();
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
    this.cancelHandshakeTimer = this.clock.after(this.opts.timings?.handshakeTimeoutMs ?? 15_000, () =>
      this.terminate(
        "handshake timed out",
        "Handshake timed out. Please ensure that you have the latest version of the session manager plugin.",
      ),
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
        // Before the handshake is complete the agent acks and discards client data (§7.4); after it,
        // until the port plugin has its session, data is not ready (port.go InputStreamMessageHandler).
        if (this.phase !== "ready") return "handled";
        if (!this.port) return "not-ready";
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
    this.cancelHandshakeTimer?.();
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
    // datachannel.go: the reader hands the response to PerformHandshake, which sends HandshakeComplete
    // at once; the reader acks the response only after its handler returns, so the complete goes first.
    this.channel.sendStreamData(PayloadType.HandshakeComplete, encodeHandshakeComplete(elapsed));
    this.stats.handshakeComplete = true;
    this.phase = "ready";
    // port.go: the plugin starts after the handshake, resolving the host once against the deny list.
    void this.startPortSession(mode);
  }

  private async startPortSession(mode: ReturnType<typeof decidePortMode>): Promise<void> {
    await Promise.resolve(); // the plugin runs after the handshake's handler returned (and acked)
    if (this.phase !== "ready") return;
    const props = this.opts.properties;
    if (props.host) {
      let addresses: readonly string[] = [];
      try {
        // net.LookupHost answers a literal address with itself.
        addresses =
          isIP(props.host) !== 0 ? [props.host] : await (this.opts.lookupHost ?? literalLookup)(props.host);
      } catch {
        // A failed lookup is not a refusal: the agent dials the name later.
      }
      const denied = [
        ...AGENT_DENIED_REMOTE_IPS,
        ...(this.opts.vpcCidrs ?? []).flatMap((cidr) => vpcReservedAddresses(cidr)),
      ];
      const hit = firstDenied(addresses, denied);
      if (hit !== undefined) {
        const message = forbiddenMessage(props.host);
        this.terminate(`port plugin failed: ${message}`, message);
        return;
      }
    }
    if (this.phase !== "ready") return;
    // Resolved once per session; a failed resolution is retried per dial.
    let resolved: Promise<{ host: string; port: number }> | undefined;
    const resolveOnce: DestinationResolver = (host, port) => {
      resolved ??= this.opts.resolveDestination(host, port);
      const attempt = resolved;
      attempt.catch(() => {
        if (resolved === attempt) resolved = undefined;
      });
      return attempt;
    };
    const ctx: PortContext = {
      host: props.host ?? "localhost",
      port: Number(props.portNumber),
      resolveDestination: resolveOnce,
      refuseDial: () => this.plan.refuseDial === true,
      output: (bytes) => this.pump.write(bytes),
      sendFlag: (flag) => {
        this.pump.flush();
        this.channel.sendStreamData(PayloadType.Flag, encodeFlag(flag));
      },
      blockReader: () => this.channel.block(),
      unblockReader: () => this.channel.unblock(),
      onReady: () => this.channel.retryPending(),
      clock: this.clock,
      paced: this.plan.unpaced !== true,
      // MGS pauses publication while the client has no WebSocket (inferred from pause_publication).
      isActive: () => this.socket !== undefined,
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
    this.channel.retryPending(); // client data refused while the plugin started
  }

  /** agent_session_state as datachannel.go sends it: unsequenced, flags 3, JSON payload. */
  private sessionStateFrame(state: string): Uint8Array {
    return encodeAgentMessage({
      messageType: "agent_session_state",
      sequenceNumber: 0,
      flags: 3n,
      payloadType: PayloadType.None,
      payload: new TextEncoder().encode(
        JSON.stringify({ SchemaVersion: 1, SessionState: state, SessionId: this.id }),
      ),
    });
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
