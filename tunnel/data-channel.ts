/**
 * The Session Manager data channel (ssm-session-protocol.md §4-§7, §9.1): one WebSocket to StreamUrl,
 * the OpenDataChannelInput text frame, binary AgentMessages with reliable delivery, an outbox that
 * chunks tunnel bytes into ≤ 1024-byte input_stream_data messages under back-pressure, and transparent
 * reconnects (ResumeSession → same StreamUrl → new OpenDataChannelInput, sequence state kept).
 *
 * Malformed frames are dropped and never acked; nothing a peer sends can throw out of this class.
 */
import { randomUUID } from "node:crypto";
import { writeAcknowledge } from "./ack-writer.ts";
import { BufferPool } from "./buffer-pool.ts";
import { ByteQueue } from "./byte-queue.ts";
import {
  type AgentMessage,
  acknowledgedSequence,
  DecodeError,
  decodeAgentMessage,
  encodeAgentMessageInto,
  encodeFlag,
  MessageType,
  PAYLOAD_OFFSET,
  PayloadType,
  parseJsonPayload,
} from "./codec.ts";
import { processGcPacer } from "./gc-pacer.ts";
import { ReliableReceiver } from "./reliable-receiver.ts";
import { DEFAULT_WINDOW_BYTES, RESEND_INTERVAL_MS, ReliableSender } from "./reliable-sender.ts";
import { RETRY_MAX_DELAY_MS, RETRY_MAX_RETRIES, withRetry } from "./retry.ts";
import type { TunnelCloseReason } from "./types.ts";
import { CLIENT_VERSION } from "./version.ts";
import { WebSocketClient, type WebSocketClientOptions } from "./websocket-client.ts";

/** StreamDataPayloadSize: tunnel bytes per data message (§7.5). */
export const MAX_PAYLOAD = 1024;
/** Tunnel bytes queued before local sockets are paused. */
export const OUTBOX_HIGH_WATER = 256 * 1024;
/** WebSocket bytes buffered in the socket before we stop handing it more. */
export const WS_HIGH_WATER = 8 * 1024 * 1024;
/** A socket that closes sooner than this after opening counts towards giving up on reconnects. */
const SHORT_LIVED_SOCKET_MS = 2000;
/** Size of a full data message: the buffers the message pool keeps. */
const MESSAGE_BUFFER_BYTES = PAYLOAD_OFFSET + MAX_PAYLOAD;
/** Message buffers kept for reuse: a full window of full messages (2 MiB / 1 KiB ≈ 2.3 MB). */
const MESSAGE_POOL_BUFFERS = Math.ceil(DEFAULT_WINDOW_BYTES / MAX_PAYLOAD);
/** The plugin pings every 5 minutes with this payload (§4.4). */
const PING_INTERVAL_MS = 5 * 60 * 1000;

export interface DataChannelEvents {
  /** One in-order stream-data message of any payload type; return false when it cannot be taken yet. */
  readonly onStreamMessage: (message: AgentMessage) => boolean;
  /** MGS/agent ended the channel (`channel_closed`), with its Output text. */
  readonly onChannelClosed: (output: string) => void;
  /** The outbox has room again after `writable` was false. */
  readonly onWritable: () => void;
  readonly onReconnecting: (attempt: number, reason: string) => void;
  readonly onReconnected: () => void;
  /** The channel cannot go on (resume gave no token, reconnect failed, resends exhausted). */
  readonly onFailed: (reason: TunnelCloseReason) => void;
  /** A received frame was dropped (malformed); for diagnostics only. */
  readonly onDropped?: (reason: string) => void;
}

export interface DataChannelOptions {
  readonly streamUrl: string;
  readonly tokenValue: string;
  /** @default a random UUID (one per process in the plugin) */
  readonly clientId?: string;
  /** @default CLIENT_VERSION */
  readonly clientVersion?: string;
  /** One ResumeSession call: the new token, or undefined when the service gave none. */
  readonly resumeSession: () => Promise<string | undefined>;
  readonly events: DataChannelEvents;
  /** Payload bytes in flight. @default DEFAULT_WINDOW_BYTES */
  readonly windowBytes?: number;
  /** Out-of-order bytes held. @default DEFAULT_RECEIVE_CAPACITY_BYTES */
  readonly receiveCapacityBytes?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** TLS trust for `wss://` beyond the runtime's roots (tests). */
  readonly webSocket?: WebSocketClientOptions;
}

const utf8 = new TextEncoder();

export class DataChannel {
  private ws: WebSocketClient | undefined;
  private token: string;
  private readonly clientId: string;
  private readonly sender: ReliableSender;
  private readonly receiver: ReliableReceiver;
  private readonly outbox = new ByteQueue();
  /**
   * Buffers of acked messages, reused for new ones at once: the WebSocket client copies a message into its
   * own write buffers when it is sent (tunnel/frame-writer.ts), so nothing reads an acked one later.
   */
  private readonly messageBuffers = new BufferPool(MESSAGE_POOL_BUFFERS, MESSAGE_BUFFER_BYTES);
  /** Collections paced by the process's traffic (see GcPacer: garbage, not live data, sets the peak RSS). */
  private readonly gc = processGcPacer;
  /** The header fields of every data message, reused (no object per message). */
  private readonly header: {
    messageType: string;
    sequenceNumber: number;
    payloadType: number;
    payload: Uint8Array | undefined;
  } = { messageType: MessageType.InputStreamData, sequenceNumber: 0, payloadType: 0, payload: undefined };
  private readonly ackWaiters = new Map<number, () => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private state: "new" | "open" | "reconnecting" | "closed" = "new";
  private blocked = false;
  private corked = 0;
  /** Flags that must follow the bytes queued before them (basic mode's DisconnectToPort). */
  private readonly flagsAfterOutput: { flag: number; sent: (seq: number) => void }[] = [];
  private attachedAt = 0;
  private shortLivedSockets = 0;
  /** Counters for tests and the benchmark (see snapshot()). */
  private readonly counters = { framesIn: 0, framesDropped: 0, acksOut: 0, reconnects: 0 };

  constructor(private readonly options: DataChannelOptions) {
    this.token = options.tokenValue;
    this.clientId = options.clientId ?? randomUUID();
    const now = options.now ?? Date.now;
    this.sender = new ReliableSender({
      now,
      windowBytes: options.windowBytes ?? DEFAULT_WINDOW_BYTES,
      transmit: (bytes) => this.transmit(bytes),
      released: (bytes) => {
        if (bytes.byteOffset !== 0 || bytes.buffer.byteLength !== MESSAGE_BUFFER_BYTES) return;
        this.messageBuffers.give(bytes.buffer as ArrayBuffer);
      },
    });
    this.receiver = new ReliableReceiver({
      deliver: (message) => options.events.onStreamMessage(message),
      ack: (message) => {
        this.counters.acksOut++;
        this.transmit(writeAcknowledge(message));
      },
      ...(options.receiveCapacityBytes ? { capacityBytes: options.receiveCapacityBytes } : {}),
    });
  }

  /** A method, not a narrowed field read: the state changes across awaits. */
  private isClosed(): boolean {
    return this.state === "closed";
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  /** False while local producers should pause (outbox above its high-water mark). */
  get writable(): boolean {
    return this.outbox.length < OUTBOX_HIGH_WATER;
  }

  get unacked(): number {
    return this.sender.unacked;
  }

  /** What the channel has done so far and holds now (for tests, events and the benchmark). */
  snapshot(): DataChannelStats {
    const s = this.sender.stats;
    return {
      ...this.counters,
      messagesOut: s.messages,
      fastResends: s.fastResends,
      timerResends: s.timerResends,
      reconnectResends: s.reconnectResends,
      unackedMessages: this.sender.unacked,
      unackedBytes: this.sender.unackedBytes,
      receiveExpected: this.receiver.expected,
      receiveHeldMessages: this.receiver.heldCount,
      receiveHeldBytes: this.receiver.heldBytes,
      receiveDropped: this.receiver.droppedCount,
      outboxBytes: this.outbox.length,
      rttMs: this.sender.rtt,
      rtoMs: this.sender.rto,
    };
  }

  /** Opens the first WebSocket (retried like the plugin's initial open) and starts the resend timer. */
  async open(): Promise<void> {
    await withRetry(() => this.connect(), { stopped: () => this.state === "closed" });
    if (this.state === "closed") throw new Error("data channel closed while opening");
    this.state = "open";
    this.timer = setInterval(() => this.onTick(), RESEND_INTERVAL_MS);
    if (!this.ws) void this.reconnect("WebSocket closed right after opening");
  }

  /** Sends one sequenced input_stream_data message (handshake answers, flags). Returns its sequence number. */
  sendStreamMessage(payloadType: number, payload: Uint8Array): number {
    const size = PAYLOAD_OFFSET + payload.length;
    const bytes = new Uint8Array(this.messageBuffers.take(size), 0, size);
    const header = this.header;
    header.sequenceNumber = this.sender.nextSequence;
    header.payloadType = payloadType;
    header.payload = payload;
    encodeAgentMessageInto(bytes, header);
    header.payload = undefined;
    this.gc.count(size);
    return this.sender.sendEncoded(bytes, payload.length);
  }

  sendFlag(flag: number): number {
    return this.sendStreamMessage(PayloadType.Flag, encodeFlag(flag));
  }

  /** Sends a flag once every byte queued before it has been sent; `sent` gets its sequence number. */
  sendFlagAfterOutput(flag: number, sent: (seq: number) => void = () => {}): void {
    this.flagsAfterOutput.push({ flag, sent });
    this.pump();
  }

  /** Sequence number the next message will get. */
  get nextSequence(): number {
    return this.sender.nextSequence;
  }

  /** Next agent sequence number the receiver will deliver. */
  get receiveExpected(): number {
    return this.receiver.expected;
  }

  /** Like waitForAck, for a message that may not have been sent yet (a number ≥ nextSequence waits). */
  waitForAckOf(seq: number, timeoutMs: number): Promise<boolean> {
    if (seq < this.sender.nextSequence) return this.waitForAck(seq, timeoutMs);
    return new Promise((resolve) => {
      const timeout = setTimeout(() => {
        this.ackWaiters.delete(seq);
        resolve(false);
      }, timeoutMs);
      this.ackWaiters.set(seq, () => {
        clearTimeout(timeout);
        resolve(true);
      });
    });
  }

  /** Queues tunnel bytes (PayloadType Output); they leave in ≤ 1024-byte messages as the window allows. */
  writeOutput(bytes: Uint8Array): void {
    this.outbox.push(bytes);
    if (this.corked === 0) this.pump();
  }

  /**
   * Holds queued bytes back until the matching uncork(), so pieces written together (an smux header and
   * its data) share a message instead of the header travelling alone with its own 120-byte header and ack.
   */
  cork(): void {
    this.corked++;
  }

  uncork(): void {
    if (this.corked > 0 && --this.corked === 0) this.pump();
  }

  /** Resolves true once `seq` is acked, false after `timeoutMs`. */
  waitForAck(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.sender.isAcked(seq)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timeout = setTimeout(() => {
        this.ackWaiters.delete(seq);
        resolve(false);
      }, timeoutMs);
      this.ackWaiters.set(seq, () => {
        clearTimeout(timeout);
        resolve(true);
      });
    });
  }

  /** Retry delivery of held messages (call when the session became ready again). */
  resumeDelivery(): void {
    this.receiver.drain();
  }

  /** Stops everything; no reconnect after this. */
  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    if (this.timer) clearInterval(this.timer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.timer = undefined;
    this.pingTimer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.onerror = null;
      try {
        ws.close(1000);
      } catch {
        // already closed
      }
    }
    for (const resolve of this.ackWaiters.values()) resolve();
    this.ackWaiters.clear();
    this.outbox.clear();
  }

  /** Feeds one received frame as if it came from the WebSocket (the socket handler and the fuzz tests). */
  receiveFrame(frame: Uint8Array): void {
    if (this.state === "closed") return;
    this.counters.framesIn++;
    this.gc.count(frame.length);
    let message: AgentMessage;
    try {
      message = decodeAgentMessage(frame);
    } catch (error) {
      this.drop(error instanceof DecodeError ? error.message : "undecodable frame");
      return;
    }
    try {
      this.dispatch(message);
    } catch (error) {
      // A handler bug or a peer that broke the tunnel's framing: end the session, never throw into Bun.
      if (error instanceof DecodeError) {
        this.drop(error.message);
        return;
      }
      this.fail({ kind: "error", message: `data channel: ${errorText(error)}` });
    }
  }

  private dispatch(message: AgentMessage): void {
    switch (message.messageType) {
      case MessageType.OutputStreamData:
        this.receiver.receive(message);
        return;
      case MessageType.Acknowledge: {
        const seq = acknowledgedSequence(message.payload);
        if (this.sender.acknowledge(seq)) {
          const waiter = this.ackWaiters.get(seq);
          if (waiter) {
            this.ackWaiters.delete(seq);
            waiter();
          }
          this.pump();
        }
        return;
      }
      case MessageType.ChannelClosed: {
        let output = "";
        try {
          const body = parseJsonPayload(message.payload);
          if (typeof body.Output === "string") output = body.Output;
        } catch {
          // a channel_closed without a readable reason still closes the channel
        }
        this.close();
        this.options.events.onChannelClosed(output);
        return;
      }
      default:
        // start_publication / pause_publication / input_stream_data / unknown types: ignored (§6.1).
        return;
    }
  }

  private pump(): void {
    const ws = this.ws;
    while (
      this.outbox.length > 0 &&
      this.state === "open" &&
      !this.sender.windowFull &&
      ws !== undefined &&
      ws.bufferedAmount < WS_HIGH_WATER
    ) {
      this.sendStreamMessage(PayloadType.Output, this.outbox.take(MAX_PAYLOAD));
    }
    while (this.outbox.length === 0 && this.flagsAfterOutput.length > 0 && this.state === "open") {
      const next = this.flagsAfterOutput.shift() as { flag: number; sent: (seq: number) => void };
      next.sent(this.sendFlag(next.flag));
    }
    if (this.blocked && this.writable) {
      this.blocked = false;
      this.options.events.onWritable();
    } else if (!this.writable) {
      this.blocked = true;
    }
  }

  private onTick(): void {
    if (this.state !== "open") return;
    if (this.sender.tick() === "exhausted") {
      this.fail({
        kind: "timed-out",
        message: "the agent stopped acknowledging data (resend attempts exhausted)",
      });
      return;
    }
    this.pump(); // bufferedAmount may have drained since the last ack
  }

  private transmit(bytes: Uint8Array): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocketClient.OPEN || this.state === "reconnecting") return false;
    ws.send(bytes);
    return true;
  }

  private drop(reason: string): void {
    this.counters.framesDropped++;
    this.options.events.onDropped?.(reason);
  }

  private fail(reason: TunnelCloseReason): void {
    if (this.state === "closed") return;
    this.close();
    this.options.events.onFailed(reason);
  }

  /** Opens a WebSocket with the current token and sends OpenDataChannelInput; resolves once sent. */
  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let ws: WebSocketClient;
      try {
        ws = new WebSocketClient(this.options.streamUrl, this.options.webSocket);
      } catch (error) {
        reject(error);
        return;
      }
      ws.onopen = () => {
        if (this.isClosed()) {
          // close() ran while this socket was opening: do not leave it behind.
          settled = true;
          ws.close(1000);
          reject(new Error("data channel closed while opening"));
          return;
        }
        const input = {
          MessageSchemaVersion: "1.0",
          RequestId: randomUUID(),
          TokenValue: this.token,
          ClientId: this.clientId,
          ClientVersion: this.options.clientVersion ?? CLIENT_VERSION,
        };
        ws.send(JSON.stringify(input));
        settled = true;
        this.attach(ws);
        resolve();
      };
      ws.onerror = () => {
        if (!settled) {
          settled = true;
          reject(
            new Error(`could not open the data channel WebSocket to ${redactUrl(this.options.streamUrl)}`),
          );
        }
      };
      ws.onclose = (event) => {
        if (!settled) {
          settled = true;
          reject(new Error(`the data channel WebSocket closed while opening (code ${event.code})`));
        }
      };
    });
  }

  private attach(ws: WebSocketClient): void {
    this.ws = ws;
    this.attachedAt = Date.now();
    ws.onmessage = (event) => {
      const data = event.data;
      this.receiveFrame(typeof data === "string" ? utf8.encode(data) : data);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      void this.reconnect(`WebSocket closed (code ${event.code})`);
    };
    ws.onerror = () => {
      // onclose follows and starts the reconnect
    };
    const send = () => ws.ping("keepalive");
    send();
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = setInterval(send, PING_INTERVAL_MS);
    this.pingTimer.unref?.();
  }

  /** ResumeSession for a new token, reopen the same StreamUrl, keep all sequence state (§9.1). */
  private async reconnect(reason: string): Promise<void> {
    if (this.state !== "open") return;
    this.state = "reconnecting";
    this.counters.reconnects++;
    // A socket that dies right after every successful reopen (the service keeps refusing us) must not
    // turn into a tight ResumeSession loop: back off, and give up like the retryer would.
    const shortLived = Date.now() - this.attachedAt < SHORT_LIVED_SOCKET_MS;
    this.shortLivedSockets = shortLived ? this.shortLivedSockets + 1 : 0;
    if (this.shortLivedSockets > RETRY_MAX_RETRIES) {
      this.state = "open";
      this.fail({
        kind: "timed-out",
        message: `the data channel closed right after opening ${this.shortLivedSockets} times in a row (${reason})`,
      });
      return;
    }
    if (this.shortLivedSockets > 1) {
      const delay = Math.min(RETRY_MAX_DELAY_MS, 100 * 2 ** (this.shortLivedSockets - 1));
      await new Promise((r) => setTimeout(r, delay));
      if (this.isClosed()) return;
    }
    let attempt = 0;
    let gaveNoToken = false;
    try {
      await withRetry(
        async () => {
          attempt++;
          this.options.events.onReconnecting(attempt, reason);
          const token = await this.options.resumeSession();
          if (this.isClosed()) return;
          if (!token) {
            gaveNoToken = true;
            return;
          }
          this.token = token;
          await this.connect();
        },
        { stopped: () => this.state === "closed" },
      );
    } catch (error) {
      if (this.isClosed()) return; // close() during the reconnect: nothing to report
      this.state = "open"; // let fail() run its normal path
      this.fail({
        kind: "timed-out",
        message: `could not reconnect the data channel after ${attempt} attempts: ${errorText(error)}`,
      });
      return;
    }
    if (this.isClosed()) return;
    if (gaveNoToken) {
      this.state = "open";
      this.fail({ kind: "timed-out", message: "the session timed out: ResumeSession returned no token" });
      return;
    }
    this.state = "open";
    // Everything unacked may have died with the old socket: resend it now instead of after an RTO.
    this.sender.resendAll(Number.POSITIVE_INFINITY);
    this.options.events.onReconnected();
    this.pump();
    // The new socket may already have died while we were finishing up: start over.
    if (!this.ws) void this.reconnect("WebSocket closed right after reconnecting");
  }
}

/** DataChannel.snapshot(): counters since the channel opened and what it holds now. */
export interface DataChannelStats {
  readonly framesIn: number;
  readonly framesDropped: number;
  readonly acksOut: number;
  readonly reconnects: number;
  readonly messagesOut: number;
  readonly fastResends: number;
  readonly timerResends: number;
  readonly reconnectResends: number;
  readonly unackedMessages: number;
  readonly unackedBytes: number;
  /** Next agent sequence number to deliver. */
  readonly receiveExpected: number;
  readonly receiveHeldMessages: number;
  readonly receiveHeldBytes: number;
  /** Early arrivals dropped unacked because the byte bound was reached. */
  readonly receiveDropped: number;
  readonly outboxBytes: number;
  readonly rttMs: number;
  readonly rtoMs: number;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The StreamUrl carries no secret in its path, but query strings might: never print them. */
function redactUrl(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}
