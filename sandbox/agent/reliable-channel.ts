/**
 * The agent's side of reliable delivery on the data channel (ssm-session-protocol.md §7 and its appendix),
 * as amazon-ssm-agent agent/session/datachannel/datachannel.go does it: sequence numbers, acknowledges,
 * a resend loop every 100 ms (agent/session/config/config.go ResendSleepInterval) that looks only at the
 * OLDEST unacked message, a Jacobson RTO measured from the last send, 100 000-message buffers (a message
 * sent while the outgoing buffer is full is never stored, so never resent), early arrivals acked on
 * arrival, duplicates re-acked, readiness gating, and a reader that blocks while the destination is full
 * (the agent writes inbound data synchronously from its WebSocket reader) — plus the fault injection of
 * §13 on the outgoing path.
 *
 * Written independently of the client's data channel (tunnel/) on purpose: the emulator is the test
 * oracle for that code, so it must not share its state machine.
 */

import type { Clock } from "../../tunnel/clock.ts";
import {
  type AgentMessage,
  DecodeError,
  decodeAgentMessage,
  encodeAcknowledge,
  encodeAgentMessage,
  MessageFlags,
  MessageType,
  PayloadType,
  parseAcknowledge,
} from "../../tunnel/codec.ts";
import type { FaultPlan } from "../gateway/types.ts";
import type { Prng } from "./prng.ts";
import type { MutableStats } from "./stats.ts";

/** Outcome of handing one in-order client message to the session. */
export type Delivery = "handled" | "not-ready";

/** Sends one frame on the current WebSocket. */
export type FrameSink = (frame: Uint8Array) => void;

export interface ReliableChannelOptions {
  readonly stats: MutableStats;
  /** Current fault plan and its PRNG (may change while the session lives). */
  readonly faults: () => { readonly plan: FaultPlan; readonly prng: Prng };
  /** Processes one in-order client stream-data message. "not-ready" drops it unacked (the client resends). */
  readonly deliver: (message: AgentMessage) => Delivery;
  /** The fault plan's closeWebSocketAfter threshold was reached. */
  readonly onCloseWebSocketFault: () => void;
  readonly clock: Clock;
  /** Outgoing and incoming buffer capacity in messages (tests shrink it). @default 100 000 */
  readonly capacity?: number;
  /** Called for every tunnel-data message (Output) sent first time or delivered: the service's idle clock. */
  readonly onDataActivity?: () => void;
  /** Check client digests (the real agent does not). @default true */
  readonly verifyDigests?: boolean;
  readonly log?: (line: string) => void;
}

interface Outgoing {
  readonly seq: number;
  readonly frame: Uint8Array;
  lastSent: number;
  attempts: number;
}

/** Agent constants (§7.6). */
const INITIAL_RTT_MS = 100;
const INITIAL_RTO_MS = 200;
const MAX_RTO_MS = 1000;
const CLOCK_GRANULARITY_MS = 10;
const RESEND_INTERVAL_MS = 100;
/** OutgoingMessageBufferCapacity and IncomingMessageBufferCapacity (agent/session/config/config.go). */
export const AGENT_BUFFER_CAPACITY = 100_000;

export class ReliableChannel {
  private sink: FrameSink | undefined;
  private nextSeq = 0;
  private expected = 0;
  private readonly outgoing = new Map<number, Outgoing>();
  private readonly early = new Map<number, AgentMessage>();
  private rtt = INITIAL_RTT_MS;
  private rttVar = 0;
  private rto = INITIAL_RTO_MS;
  private readonly stopTimer: () => void;
  private readonly capacity: number;
  /** The reader is blocked (a destination write would block): frames wait here, acks included. */
  private blocked = false;
  private readonly backlog: Uint8Array[] = [];
  private readonly drainWaiters: (() => void)[] = [];
  /** A frame held back by the reorder fault; sent after the next one. */
  private held: Uint8Array | undefined;
  /** The in-order client message last refused as not ready (not acked yet). */
  private stalled: AgentMessage | undefined;
  private firstSends = 0;
  private closeFaultFired = false;
  private closed = false;

  constructor(private readonly opts: ReliableChannelOptions) {
    this.capacity = opts.capacity ?? AGENT_BUFFER_CAPACITY;
    this.stopTimer = opts.clock.every(RESEND_INTERVAL_MS, () => this.resendTick());
  }

  /** Unacked outgoing messages. */
  get unacked(): number {
    return this.outgoing.size;
  }

  /** Frames waiting behind a blocked reader. */
  get backlogFrames(): number {
    return this.backlog.length;
  }

  get currentRto(): number {
    return this.rto;
  }

  /**
   * A (new) WebSocket is attached. Nothing is resent because of it: what was lost with the old socket is
   * recovered by the resend loop, oldest message first, one per tick (the agent does the same).
   */
  attach(sink: FrameSink): void {
    this.sink = sink;
  }

  detach(): void {
    this.sink = undefined;
    this.held = undefined;
    // A reader blocked on the destination belongs to the old socket: its unread frames die with it.
    this.backlog.length = 0;
  }

  /**
   * The destination cannot take more (smux buffer full, socket not draining): the WebSocket reader stops,
   * acks included, until unblock(). Frames that arrive meanwhile wait, as in the socket's receive buffer.
   */
  block(): void {
    if (this.blocked) return;
    this.blocked = true;
    this.opts.stats.readerBlocks++;
  }

  /** The destination drained: the reader goes on with the frames that waited. */
  unblock(): void {
    if (!this.blocked) return;
    this.blocked = false;
    while (!this.blocked && this.backlog.length > 0 && !this.closed) {
      this.process(this.backlog.shift() as Uint8Array);
    }
  }

  get readerBlocked(): boolean {
    return this.blocked;
  }

  /** Sends one sequenced output_stream_data message (data, handshake, flag). */
  sendStreamData(payloadType: number, payload: Uint8Array): void {
    if (this.closed) return;
    const seq = this.nextSeq++;
    const frame = encodeAgentMessage({
      messageType: MessageType.OutputStreamData,
      sequenceNumber: seq,
      // The first message of the agent's stream carries SYN (§6.1).
      flags: seq === 0 ? MessageFlags.Syn : 0n,
      payloadType,
      payload,
    });
    const stats = this.opts.stats;
    // AddDataToOutgoingMessageBuffer: a full buffer silently does not store the message.
    if (this.outgoing.size < this.capacity) {
      this.outgoing.set(seq, { seq, frame, lastSent: this.opts.clock.now(), attempts: 1 });
    } else {
      stats.outgoingNotStored++;
    }
    stats.messagesOut++;
    if (payloadType === PayloadType.Output) {
      stats.bytesOut += payload.length;
      this.opts.onDataActivity?.();
    }
    this.transmitFirst(frame);
  }

  /** Sends a frame outside the sequence (channel_closed): no faults, no retransmission. */
  sendUnsequenced(frame: Uint8Array): void {
    this.sink?.(frame);
  }

  /** Handles one binary frame from the client (it waits while the reader is blocked). */
  receive(raw: Uint8Array): void {
    if (this.closed) return;
    if (this.blocked) {
      this.backlog.push(raw);
      return;
    }
    this.process(raw);
  }

  private process(raw: Uint8Array): void {
    let message: AgentMessage;
    try {
      message = decodeAgentMessage(raw, { verifyDigest: this.opts.verifyDigests !== false });
    } catch (error) {
      if (error instanceof DecodeError && error.message.includes("digest")) {
        this.opts.stats.digestFailures++;
        this.opts.log?.("client frame with a wrong payload digest dropped");
      } else {
        this.opts.stats.malformedFrames++;
        this.opts.log?.(`malformed client frame dropped: ${(error as Error).message}`);
      }
      return;
    }
    switch (message.messageType) {
      case MessageType.Acknowledge:
        this.onAck(message);
        return;
      case MessageType.InputStreamData:
        this.onStreamData(message);
        return;
      default:
        // output_stream_data from a client, publication control, unknown types: ignored like the agent does.
        return;
    }
  }

  /** The session is ready again (redial done, destination drained): retry what was refused. */
  retryPending(): void {
    const stalled = this.stalled;
    if (stalled && stalled.sequenceNumber === this.expected) this.deliverHead(stalled);
    else this.drain();
  }

  /** Resolves once every outgoing message is acked, or after `timeoutMs`. */
  waitDrained(timeoutMs: number): Promise<void> {
    if (this.outgoing.size === 0 || !this.sink) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = this.opts.clock.after(timeoutMs, done);
      function done(): void {
        cancel?.();
        resolve();
      }
      this.drainWaiters.push(done);
    });
  }

  close(): void {
    this.closed = true;
    this.stopTimer();
    this.outgoing.clear();
    this.early.clear();
    this.backlog.length = 0;
    this.sink = undefined;
    for (const done of this.drainWaiters.splice(0)) done();
  }

  private onStreamData(message: AgentMessage): void {
    const seq = message.sequenceNumber;
    if (seq === this.expected) {
      this.deliverHead(message);
    } else if (seq > this.expected) {
      if (!this.early.has(seq)) {
        if (this.early.size >= this.capacity) return; // full: drop silently, the client resends
        this.early.set(seq, message);
      }
      this.ack(message);
    } else {
      // Our earlier ack was lost: acknowledge again so the client stops resending (the agent does this).
      this.opts.stats.duplicatesReacked++;
      this.ack(message);
    }
  }

  /**
   * Delivers the in-order message. Not ready → readiness gating (§7.3/7.4): no ack, `expected` stays and
   * the client retransmits. The message is remembered so that retryPending() can deliver (and then ack)
   * it as soon as the session is ready again, instead of waiting for the client's next retransmission.
   */
  private deliverHead(message: AgentMessage): void {
    if (this.opts.deliver(message) === "not-ready") {
      this.opts.stats.notReadyDrops++;
      this.stalled = message;
      return;
    }
    this.stalled = undefined;
    this.opts.stats.messagesIn++;
    if (message.payloadType === PayloadType.Output) this.opts.onDataActivity?.();
    this.ack(message);
    this.expected++;
    this.drain();
  }

  /** Processes buffered early arrivals that are now in order (they were acked on arrival). */
  private drain(): void {
    for (let next = this.early.get(this.expected); next; next = this.early.get(this.expected)) {
      if (this.opts.deliver(next) === "not-ready") return; // kept; retryPending() tries again
      this.opts.stats.messagesIn++;
      if (next.payloadType === PayloadType.Output) this.opts.onDataActivity?.();
      this.early.delete(this.expected);
      this.expected++;
    }
  }

  private onAck(message: AgentMessage): void {
    let seq: number;
    try {
      seq = parseAcknowledge(message.payload).AcknowledgedMessageSequenceNumber;
    } catch {
      this.opts.stats.malformedFrames++;
      return;
    }
    this.opts.stats.acksReceived++;
    const entry = this.outgoing.get(seq);
    if (!entry) return; // ack of something already acked
    this.updateRto(this.opts.clock.now() - entry.lastSent);
    this.outgoing.delete(seq);
    if (this.outgoing.size === 0) for (const done of this.drainWaiters.splice(0)) done();
  }

  /** Jacobson/Karels, in the agent's order: RTTVAR from the old RTT first (§7.2). */
  private updateRto(sample: number): void {
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.rtt - sample);
    this.rtt = 0.875 * this.rtt + 0.125 * sample;
    this.rto = Math.min(MAX_RTO_MS, this.rtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttVar));
    this.opts.stats.rtoMs = this.rto;
    this.opts.stats.rtoMaxMs = Math.max(this.opts.stats.rtoMaxMs, this.rto);
  }

  private ack(message: AgentMessage): void {
    const { plan, prng } = this.opts.faults();
    if (prng.chance(plan.dropAckRate)) {
      this.opts.stats.faults.acksDropped++;
      return;
    }
    this.opts.stats.acksSent++;
    this.out(encodeAcknowledge(message));
  }

  /** Only the oldest unacked message is considered per tick, as the agent does; lastSent IS updated. */
  private resendTick(): void {
    if (this.held) this.flushHeld(); // nothing followed the held frame: do not stall on it
    if (!this.sink) return; // paused publication: the scheduler skips resending
    const head = this.outgoing.values().next().value;
    if (!head) return;
    const now = this.opts.clock.now();
    if (now - head.lastSent <= this.rto) return;
    head.attempts++;
    head.lastSent = now;
    this.opts.stats.retransmissions++;
    this.out(head.frame);
  }

  /** First transmission of a sequenced message, through the fault plan. */
  private transmitFirst(frame: Uint8Array): void {
    const { plan, prng } = this.opts.faults();
    const faults = this.opts.stats.faults;
    this.firstSends++;
    if (prng.chance(plan.dropRate)) {
      faults.dropped++;
    } else {
      let wire = frame;
      if (prng.chance(plan.corruptDigestRate)) {
        // Corrupt a copy: the stored frame stays intact so the retransmission heals it.
        wire = frame.slice();
        wire[80] = (wire[80] ?? 0) ^ 0xff;
        faults.digestsCorrupted++;
      }
      if (!this.held && prng.chance(plan.reorderRate)) {
        this.held = wire;
        faults.reordered++;
      } else {
        this.out(wire);
        if (prng.chance(plan.duplicateRate)) {
          faults.duplicated++;
          this.out(wire);
        }
        this.flushHeld();
      }
    }
    if (
      !this.closeFaultFired &&
      plan.closeWebSocketAfter !== undefined &&
      this.firstSends >= plan.closeWebSocketAfter &&
      this.sink
    ) {
      this.closeFaultFired = true;
      faults.webSocketsClosed++;
      this.opts.onCloseWebSocketFault();
    }
  }

  private flushHeld(): void {
    const held = this.held;
    this.held = undefined;
    if (held) this.out(held);
  }

  /** Puts one frame on the wire, after the plan's delay if any (same delay for all keeps the order). */
  private out(frame: Uint8Array): void {
    const delay = this.opts.faults().plan.delayMs ?? 0;
    if (delay > 0) {
      this.opts.clock.after(delay, () => this.sink?.(frame));
    } else {
      this.sink?.(frame);
    }
  }

  /** Re-arms the closeWebSocketAfter fault (a new plan was set). */
  resetFaultCounters(): void {
    this.firstSends = 0;
    this.closeFaultFired = false;
  }
}
