/**
 * Sender half of the data channel's reliable delivery (ssm-session-protocol.md §7.2), as a pure state
 * machine with an injected clock: the data channel owns the timer and the socket.
 *
 * Differences from the reference plugin, on purpose (§12):
 * - `lastSent` is stored on every resend (no resend storm, honest RTT samples);
 * - a full window is back-pressure (`windowFull`), never a silent drop of the oldest message;
 * - each tick resends every overdue message (oldest first, capped), not only the head, so a burst of lost
 *   acks costs one RTO instead of one tick per message.
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
/** Unacked messages in flight before senders must pause: large enough that loopback RTT does not cap throughput. */
export const DEFAULT_WINDOW = 4096;
/** Resends per tick, so a reconnect does not push the whole window into the socket in one go. */
export const MAX_RESENDS_PER_TICK = 1024;

export interface SenderOptions {
  /** Puts bytes on the wire; returns false when there is no open socket (the message stays queued). */
  readonly transmit: (bytes: Uint8Array) => boolean;
  readonly now: () => number;
  /** @default DEFAULT_WINDOW */
  readonly window?: number;
  /** @default MAX_RESEND_ATTEMPTS */
  readonly maxAttempts?: number;
}

interface Outgoing {
  readonly bytes: Uint8Array;
  lastSent: number;
  attempts: number;
}

export type TickResult = "ok" | "exhausted";

export class ReliableSender {
  private readonly outgoing = new Map<number, Outgoing>();
  private next = 0;
  private readonly window: number;
  private readonly maxAttempts: number;
  rtt = INITIAL_RTT_MS;
  rttVar = 0;
  rto = INITIAL_RTO_MS;

  constructor(private readonly options: SenderOptions) {
    this.window = options.window ?? DEFAULT_WINDOW;
    this.maxAttempts = options.maxAttempts ?? MAX_RESEND_ATTEMPTS;
  }

  /** Sequence number the next message gets. */
  get nextSequence(): number {
    return this.next;
  }

  get unacked(): number {
    return this.outgoing.size;
  }

  /** True while the window is full: callers stop producing until acks drain it. */
  get windowFull(): boolean {
    return this.outgoing.size >= this.window;
  }

  /**
   * Numbers, stores and transmits one stream-data message. `build` serializes it for the given sequence
   * number; the bytes are kept unchanged for resends (same MessageId and CreatedDate, §5.2).
   */
  send(build: (sequenceNumber: number) => Uint8Array): number {
    const seq = this.next++;
    const bytes = build(seq);
    this.outgoing.set(seq, { bytes, lastSent: this.options.now(), attempts: 0 });
    this.options.transmit(bytes);
    return seq;
  }

  /** Handles an ack; returns false when nothing with that sequence number was outstanding. */
  acknowledge(seq: number): boolean {
    const entry = this.outgoing.get(seq);
    if (!entry) return false;
    const sample = Math.max(0, this.options.now() - entry.lastSent);
    // Order matters (§7.2): RTTVAR uses the old RTT.
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.rtt - sample);
    this.rtt = 0.875 * this.rtt + 0.125 * sample;
    this.rto = Math.min(MAX_RTO_MS, this.rtt + Math.max(CLOCK_GRANULARITY_MS, 4 * this.rttVar));
    this.outgoing.delete(seq);
    return true;
  }

  /** True once `seq` has been acked (or was never sent). */
  isAcked(seq: number): boolean {
    return !this.outgoing.has(seq);
  }

  /**
   * Resends overdue messages, oldest first. Returns "exhausted" when a message due for a resend already
   * had `maxAttempts` resends: the peer is gone and the session must end.
   */
  tick(maxResends: number = MAX_RESENDS_PER_TICK): TickResult {
    const now = this.options.now();
    let budget = maxResends;
    for (const entry of this.outgoing.values()) {
      if (now - entry.lastSent <= this.rto) {
        // Never-resent entries are in send order: once one is not overdue, none after it is.
        if (entry.attempts === 0) break;
        continue;
      }
      if (entry.attempts >= this.maxAttempts) return "exhausted";
      if (!this.options.transmit(entry.bytes)) break; // no socket: nothing counts as an attempt
      entry.attempts++;
      entry.lastSent = now;
      if (--budget === 0) break;
    }
    return "ok";
  }

  /** After a reconnect: make every unacked message due, so the next tick resends without waiting an RTO. */
  markAllDue(): void {
    for (const entry of this.outgoing.values()) entry.lastSent = Number.NEGATIVE_INFINITY;
  }
}
