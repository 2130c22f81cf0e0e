/**
 * Receiver half of the data channel's reliable delivery (ssm-session-protocol.md §7.3, §7.4), as a pure
 * state machine: in-order delivery, early arrivals acked on arrival and held by BYTES (not by count),
 * re-acking of duplicates (the agent does it, the plugin does not: §12.4) and readiness gating — the
 * in-order head is acked only once it could be delivered, so data we cannot take yet is resent by the
 * agent instead of lost.
 *
 * Why early arrivals must be kept, and how many: the agent resends only its OLDEST unacked message, at
 * most once per 100 ms tick (amazon-ssm-agent datachannel.go), and never stops reading its destination.
 * A receiver that drops an early arrival unacked turns one loss into a repair at ~10 messages per second.
 * The agent can have at most OutgoingMessageBufferCapacity = 100 000 messages unacked (config.go; a
 * message sent beyond that is never stored, so never resent and could never be delivered anyway), each
 * with at most StreamDataPayloadSize = 1024 payload bytes. So the worst case a receiver can usefully hold
 * is 100 000 × 1024 B = 102 400 000 B (97.7 MiB) of payload; the bound below is exactly that. Entries
 * keep the payload as a view into the received frame (no copy): the ≈ 120-byte message header and the
 * Map entry (≈ 100 B) come on top, ≈ 22 MB more at the worst case. Typical use holds far less: only what
 * arrives while one loss is being repaired.
 */
import type { AgentMessage } from "./codec.ts";
import { PayloadType } from "./codec.ts";

/** The agent's OutgoingMessageBufferCapacity × StreamDataPayloadSize: payload bytes held at most. */
export const DEFAULT_RECEIVE_CAPACITY_BYTES = 100_000 * 1024;

export interface ReceiverOptions {
  /** Hands one in-order message to the session; false = not ready (keep it, do not ack, retry on `drain`). */
  readonly deliver: (message: AgentMessage) => boolean;
  /** Sends the ack for a message. */
  readonly ack: (message: AgentMessage) => void;
  /** Payload bytes of early arrivals held at most. @default DEFAULT_RECEIVE_CAPACITY_BYTES */
  readonly capacityBytes?: number;
}

export type ReceiveOutcome = "delivered" | "held" | "buffered" | "duplicate" | "dropped";

interface Held {
  readonly message: AgentMessage;
  acked: boolean;
}

/** Handshake and challenge messages are acked before processing, as the plugin does. */
function ackedBeforeProcessing(payloadType: number): boolean {
  return (
    payloadType === PayloadType.HandshakeRequest ||
    payloadType === PayloadType.HandshakeComplete ||
    payloadType === PayloadType.EncChallengeRequest
  );
}

export class ReliableReceiver {
  private expectedSeq = 0;
  private readonly held = new Map<number, Held>();
  private readonly capacityBytes: number;
  private bytes = 0;
  private dropped = 0;
  private draining = false;

  constructor(private readonly options: ReceiverOptions) {
    this.capacityBytes = options.capacityBytes ?? DEFAULT_RECEIVE_CAPACITY_BYTES;
  }

  /** Payload bytes held (early arrivals plus a not-yet-deliverable head). */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Early arrivals dropped (unacked) because the byte bound was reached. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Next sequence number to deliver. */
  get expected(): number {
    return this.expectedSeq;
  }

  /** Messages held (early arrivals plus a not-yet-deliverable head). */
  get heldCount(): number {
    return this.held.size;
  }

  receive(message: AgentMessage): ReceiveOutcome {
    const seq = message.sequenceNumber;
    if (seq < this.expectedSeq) {
      // Our ack was lost: say it again, or the peer retransmits until it gives up.
      this.options.ack(message);
      return "duplicate";
    }
    if (seq > this.expectedSeq) {
      const existing = this.held.get(seq);
      if (existing) {
        if (existing.acked) this.options.ack(message);
        return "buffered";
      }
      if (this.bytes + message.payload.length > this.capacityBytes) {
        this.dropped++;
        return "dropped";
      }
      this.held.set(seq, { message, acked: true });
      this.bytes += message.payload.length;
      this.options.ack(message);
      return "buffered";
    }
    if (this.held.size === 0 && !this.draining) return this.deliverInOrder(message);
    const existing = this.held.get(seq);
    if (!existing) {
      // The head is always taken, even with a full buffer: it is what lets the buffer drain.
      this.held.set(seq, { message, acked: false });
      this.bytes += message.payload.length;
    } else if (existing.acked) {
      this.options.ack(message);
    }
    this.drain();
    return this.expectedSeq > seq ? "delivered" : "held";
  }

  /**
   * The common case (nothing held, the expected message arrives): delivered and acked without passing
   * through the map. Same order of ack and delivery as drain().
   */
  private deliverInOrder(message: AgentMessage): ReceiveOutcome {
    const ackFirst = ackedBeforeProcessing(message.payloadType);
    if (ackFirst) this.options.ack(message);
    let delivered: boolean;
    this.draining = true;
    try {
      delivered = this.options.deliver(message);
    } finally {
      this.draining = false;
    }
    if (!delivered) {
      this.held.set(message.sequenceNumber, { message, acked: ackFirst });
      this.bytes += message.payload.length;
      return "held";
    }
    if (!ackFirst) this.options.ack(message);
    this.expectedSeq++;
    return "delivered";
  }

  /** Delivers whatever is deliverable in order; call it when the session becomes ready again. */
  drain(): void {
    if (this.draining) return; // deliver() may re-enter through a synchronous readiness change
    this.draining = true;
    try {
      for (;;) {
        const head = this.held.get(this.expectedSeq);
        if (!head) return;
        if (!head.acked && ackedBeforeProcessing(head.message.payloadType)) {
          head.acked = true;
          this.options.ack(head.message);
        }
        if (!this.options.deliver(head.message)) return;
        if (!head.acked) this.options.ack(head.message);
        this.held.delete(this.expectedSeq);
        this.bytes -= head.message.payload.length;
        this.expectedSeq++;
      }
    } finally {
      this.draining = false;
    }
  }
}
