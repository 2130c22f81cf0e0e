/**
 * Sender half of the data channel's reliable delivery (ssm-session-protocol.md §7.2), as a pure state
 * machine with an injected clock: the data channel owns the timer and the socket.
 *
 * The agent acknowledges every message individually and processes them in order from one WebSocket (an
 * in-order TCP stream), so an ack tells more than "this one arrived": every message sent BEFORE the acked
 * one that is still unacked was dropped on the way (readiness gating, a digest failure, a WebSocket that
 * died). Those are resent at once (like TCP's SACK-based fast retransmit). The timer only covers the
 * tail: the OLDEST message is resent when no ack has made progress for an RTO (TCP's rule of restarting
 * the timer on every ack), so messages queued behind our own window are never mistaken for lost ones.
 * RTT samples come only from messages sent once (Karn), Jacobson/Karels as the agent computes them.
 *
 * The window is counted in payload bytes and kept below the agent's smux receive buffer (4 MiB, xtaci/smux
 * DefaultConfig as port_mux.go uses it): however slow the destination, what we have in flight fits in
 * that buffer, so the agent's WebSocket reader (which writes inbound data synchronously) never blocks on
 * us and its read deadline never drops the socket.
 *
 * Differences from the reference plugin, on purpose (§12): `lastSent` is stored on every resend; a full
 * window is back-pressure (`windowFull`), never a silent drop of the oldest message.
 */

export const INITIAL_RTT_MS = 100;
export const INITIAL_RTO_MS = 200;
export const MAX_RTO_MS = 1000;
/** Clock granularity term: RTO = RTT + max(10 ms, 4·RTTVAR). */
export const CLOCK_GRANULARITY_MS = 10;
/** The plugin's ResendSleepInterval: how often the data channel calls `tick`. */
export const RESEND_INTERVAL_MS = 100;
/** The plugin's ResendMaxAttempt: a message resent this often means the peer is gone. */
export const MAX_RESEND_ATTEMPTS = 3000;
/** Payload bytes in flight: half the agent's 4 MiB smux receive buffer (headroom for smux headers). */
export const DEFAULT_WINDOW_BYTES = 2 * 1024 * 1024;
/** Resends per tick, so a reconnect does not push the whole window into the socket in one go. */
export const MAX_RESENDS_PER_TICK = 1024;

export interface SenderOptions {
  /** Puts bytes on the wire; returns false when there is no open socket (the message stays queued). */
  readonly transmit: (bytes: Uint8Array) => boolean;
  readonly now: () => number;
  /** Payload bytes in flight before `windowFull`. @default DEFAULT_WINDOW_BYTES */
  readonly windowBytes?: number;
  /** @default MAX_RESEND_ATTEMPTS */
  readonly maxAttempts?: number;
  /** Called with a message's bytes once it is acked: the sender never touches them again. */
  readonly released?: (bytes: Uint8Array) => void;
}

interface Outgoing {
  readonly bytes: Uint8Array;
  readonly payloadBytes: number;
  lastSent: number;
  attempts: number;
}

export type TickResult = "ok" | "exhausted";

/** Counters for tests and the benchmark. */
export interface SenderStats {
  messages: number;
  /** Resends because a later message was acked first. */
  fastResends: number;
  /** Resends because no ack made progress for an RTO. */
  timerResends: number;
  /** Resends after a reconnect (everything unacked may have died with the old socket). */
  reconnectResends: number;
}

export class ReliableSender {
  private readonly outgoing = new Map<number, Outgoing>();
  private next = 0;
  /** Lowest sequence number still outstanding (= next when none is). */
  private oldest = 0;
  private inFlight = 0;
  private readonly windowBytes: number;
  private readonly maxAttempts: number;
  /** When an ack last removed a message (or the window was last empty): the RTO timer's start. */
  private lastProgress = 0;
  rtt = INITIAL_RTT_MS;
  rttVar = 0;
  rto = INITIAL_RTO_MS;
  readonly stats: SenderStats = { messages: 0, fastResends: 0, timerResends: 0, reconnectResends: 0 };

  constructor(private readonly options: SenderOptions) {
    this.windowBytes = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
    this.maxAttempts = options.maxAttempts ?? MAX_RESEND_ATTEMPTS;
  }

  /** Sequence number the next message gets. */
  get nextSequence(): number {
    return this.next;
  }

  get unacked(): number {
    return this.outgoing.size;
  }

  /** Payload bytes sent and not acked yet. */
  get unackedBytes(): number {
    return this.inFlight;
  }

  /** True while the window is full: callers stop producing until acks drain it. */
  get windowFull(): boolean {
    return this.inFlight >= this.windowBytes;
  }

  /**
   * Numbers, stores and transmits one stream-data message. `build` serializes it for the given sequence
   * number; the bytes are kept unchanged for resends (same MessageId and CreatedDate, §5.2).
   */
  send(build: (sequenceNumber: number) => Uint8Array, payloadBytes = 0): number {
    return this.sendEncoded(build(this.next), payloadBytes);
  }

  /**
   * Like send(), for bytes already serialized with sequence number `nextSequence` (no closure per message
   * on the hot path).
   */
  sendEncoded(bytes: Uint8Array, payloadBytes = 0): number {
    const seq = this.next++;
    const now = this.options.now();
    if (this.outgoing.size === 0) this.lastProgress = now;
    this.outgoing.set(seq, { bytes, payloadBytes, lastSent: now, attempts: 0 });
    this.inFlight += payloadBytes;
    this.stats.messages++;
    this.options.transmit(bytes);
    return seq;
  }

  /** Handles an ack; returns false when nothing with that sequence number was outstanding. */
  acknowledge(seq: number): boolean {
    const entry = this.outgoing.get(seq);
    if (!entry) return false;
    const now = this.options.now();
    if (entry.attempts === 0) {
      // Karn: a resent message's ack cannot tell which transmission it answers.
      const sample = Math.max(0, now - entry.lastSent);
      // Order matters (§7.2): RTTVAR uses the old RTT.
      this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.rtt - sample);
      this.rtt = 0.875 * this.rtt + 0.125 * sample;
      this.rto = Math.min(MAX_RTO_MS, this.rtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttVar));
    }
    this.outgoing.delete(seq);
    this.options.released?.(entry.bytes);
    this.inFlight -= entry.payloadBytes;
    this.lastProgress = now;
    if (seq === this.oldest) {
      // The usual in-order case: nothing older is outstanding. Move to the next outstanding message.
      while (this.oldest < this.next && !this.outgoing.has(this.oldest)) this.oldest++;
      return true;
    }
    // Older messages sent before this one and still unacked were dropped: resend them now. Map order is
    // sequence order.
    for (const [olderSeq, older] of this.outgoing) {
      if (olderSeq > seq) break;
      if (older.lastSent > entry.lastSent) continue; // already resent after this one went out
      if (!this.options.transmit(older.bytes)) break;
      older.attempts++;
      older.lastSent = now;
      this.stats.fastResends++;
    }
    return true;
  }

  /** True once `seq` has been acked (or was never sent). */
  isAcked(seq: number): boolean {
    return !this.outgoing.has(seq);
  }

  /**
   * Resends the oldest message when neither it was sent nor an ack made progress within the RTO. Returns
   * "exhausted" when it already had `maxAttempts` resends: the peer is gone and the session must end.
   */
  tick(): TickResult {
    const head = this.outgoing.get(this.oldest);
    if (!head) return "ok";
    const now = this.options.now();
    if (now - Math.max(head.lastSent, this.lastProgress) <= this.rto) return "ok";
    if (head.attempts >= this.maxAttempts) return "exhausted";
    if (!this.options.transmit(head.bytes)) return "ok"; // no socket: nothing counts as an attempt
    head.attempts++;
    head.lastSent = now;
    this.stats.timerResends++;
    return "ok";
  }

  /**
   * After a reconnect: whatever was unacked may have died with the old socket, so resend it now (oldest
   * first, at most `max`), instead of one RTO at a time. Duplicates are re-acked by the agent.
   */
  resendAll(max: number = MAX_RESENDS_PER_TICK): void {
    const now = this.options.now();
    let budget = max;
    for (const entry of this.outgoing.values()) {
      if (budget-- <= 0) break;
      if (!this.options.transmit(entry.bytes)) break;
      entry.attempts++;
      entry.lastSent = now;
      this.stats.reconnectResends++;
    }
    this.lastProgress = now;
  }
}
