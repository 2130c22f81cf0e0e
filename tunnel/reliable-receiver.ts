/**
 * Receiver half of the data channel's reliable delivery (ssm-session-protocol.md §7.3, §7.4), as a pure
 * state machine: in-order delivery, acked buffering of early arrivals, re-acking of duplicates (the agent
 * does it, the plugin does not: §12.4) and readiness gating — a message is acked only once it could be
 * delivered, so a peer whose data we cannot take yet keeps retransmitting instead of losing it.
 */
import type { AgentMessage } from "./codec.ts";
import { PayloadType } from "./codec.ts";

/** Early arrivals held at most (the plugin's incoming buffer capacity). */
export const DEFAULT_RECEIVE_CAPACITY = 10_000;

export interface ReceiverOptions {
  /** Hands one in-order message to the session; false = not ready (keep it, do not ack, retry on `drain`). */
  readonly deliver: (message: AgentMessage) => boolean;
  /** Sends the ack for a message. */
  readonly ack: (message: AgentMessage) => void;
  /** @default DEFAULT_RECEIVE_CAPACITY */
  readonly capacity?: number;
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
  private readonly capacity: number;
  private draining = false;

  constructor(private readonly options: ReceiverOptions) {
    this.capacity = options.capacity ?? DEFAULT_RECEIVE_CAPACITY;
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
      if (this.held.size >= this.capacity) return "dropped";
      this.held.set(seq, { message, acked: true });
      this.options.ack(message);
      return "buffered";
    }
    const existing = this.held.get(seq);
    if (!existing) {
      // The head is always taken, even with a full buffer: it is what lets the buffer drain.
      this.held.set(seq, { message, acked: false });
    } else if (existing.acked) {
      this.options.ack(message);
    }
    this.drain();
    return this.expectedSeq > seq ? "delivered" : "held";
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
        this.expectedSeq++;
      }
    } finally {
      this.draining = false;
    }
  }
}
