/**
 * A frame-level data-channel client for the emulator's own tests: it speaks raw AgentMessages built
 * with the codec over a real WebSocket and has no protocol logic of its own (no automatic acks, no
 * retransmission), so each test states exactly what the client does.
 */
import {
  type AgentMessage,
  decodeAgentMessage,
  encodeAcknowledge,
  encodeAgentMessage,
  encodeFlag,
  MessageType,
  PayloadType,
  parseJsonPayload,
} from "../../tunnel/codec.ts";

export class RawClient {
  private readonly frames: AgentMessage[] = [];
  private waiters: (() => void)[] = [];
  private closedWith: { code: number; reason: string } | undefined;
  /** Every frame received, in order (including ones already taken by next()). */
  readonly log: AgentMessage[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.addEventListener("message", (event) => {
      const data = event.data;
      const bytes =
        typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data as ArrayBuffer);
      // The client decodes with digest checks like the plugin; tests of digest corruption count the rest.
      let message: AgentMessage;
      try {
        message = decodeAgentMessage(bytes);
      } catch {
        this.rejected++;
        this.wake();
        return;
      }
      this.frames.push(message);
      this.log.push(message);
      this.wake();
    });
    ws.addEventListener("close", (event) => {
      this.closedWith = { code: event.code, reason: event.reason };
      this.wake();
    });
  }

  /** Frames that failed to decode (e.g. a corrupted digest). */
  rejected = 0;

  /** Opens the socket and sends OpenDataChannelInput with `token` (omit `open` to send a custom first frame). */
  static async connect(streamUrl: string, token?: string, clientVersion = "1.2.677.0"): Promise<RawClient> {
    const ws = new WebSocket(streamUrl);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`WebSocket to ${streamUrl} failed`)), {
        once: true,
      });
    });
    const client = new RawClient(ws);
    if (token !== undefined) {
      ws.send(
        JSON.stringify({
          MessageSchemaVersion: "1.0",
          RequestId: crypto.randomUUID(),
          TokenValue: token,
          ClientId: crypto.randomUUID(),
          ClientVersion: clientVersion,
        }),
      );
    }
    return client;
  }

  get closed(): { code: number; reason: string } | undefined {
    return this.closedWith;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Takes the first received frame matching `match`, waiting up to `timeoutMs`. */
  async next(match: (m: AgentMessage) => boolean = () => true, timeoutMs = 3000): Promise<AgentMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0] as AgentMessage;
      if (this.closedWith)
        throw new Error(`socket closed (${this.closedWith.code} ${this.closedWith.reason}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a frame");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the next output_stream_data (optionally of one payload type). */
  nextData(payloadType?: number, timeoutMs = 3000): Promise<AgentMessage> {
    return this.next(
      (m) =>
        m.messageType === MessageType.OutputStreamData &&
        (payloadType === undefined || m.payloadType === payloadType),
      timeoutMs,
    );
  }

  /** Waits for the ack of our input message `seq`. */
  nextAck(seq: number, timeoutMs = 3000): Promise<AgentMessage> {
    return this.next(
      (m) =>
        m.messageType === MessageType.Acknowledge &&
        parseJsonPayload(m.payload).AcknowledgedMessageSequenceNumber === seq,
      timeoutMs,
    );
  }

  /** Resolves when the socket is closed. */
  async waitClosed(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedWith) {
      if (Date.now() > deadline) throw new Error("socket still open");
      await Bun.sleep(10);
    }
    return this.closedWith;
  }

  /** Drops pending frames matching `match` (e.g. thousands of acks a bulk test does not inspect). */
  discard(match: (m: AgentMessage) => boolean): number {
    let dropped = 0;
    for (let i = this.frames.length - 1; i >= 0; i--) {
      if (match(this.frames[i] as AgentMessage)) {
        this.frames.splice(i, 1);
        dropped++;
      }
    }
    return dropped;
  }

  /** Pending (not yet taken) frames. */
  pending(): AgentMessage[] {
    return [...this.frames];
  }

  sendRaw(frame: Uint8Array): void {
    this.ws.send(frame);
  }

  input(seq: number, payloadType: number, payload: Uint8Array): Uint8Array {
    const frame = encodeAgentMessage({
      messageType: MessageType.InputStreamData,
      sequenceNumber: seq,
      payloadType,
      payload,
    });
    this.ws.send(frame);
    return frame;
  }

  ack(message: AgentMessage): void {
    this.ws.send(encodeAcknowledge(message));
  }

  flag(seq: number, flag: number): void {
    this.input(seq, PayloadType.Flag, encodeFlag(flag));
  }

  /** Runs the client side of the handshake: ack the request, answer, ack the complete. Returns both. */
  async handshake(
    clientVersion = "1.2.677.0",
  ): Promise<{ request: Record<string, unknown>; complete: Record<string, unknown> }> {
    const request = await this.nextData(PayloadType.HandshakeRequest);
    this.ack(request);
    this.input(
      0,
      PayloadType.HandshakeResponse,
      new TextEncoder().encode(
        JSON.stringify({
          ClientVersion: clientVersion,
          ProcessedClientActions: [
            { ActionType: "SessionType", ActionStatus: 1, ActionResult: null, Error: "" },
          ],
          Errors: null,
        }),
      ),
    );
    await this.nextAck(0);
    const complete = await this.nextData(PayloadType.HandshakeComplete);
    this.ack(complete);
    return { request: parseJsonPayload(request.payload), complete: parseJsonPayload(complete.payload) };
  }

  close(): void {
    this.ws.close();
  }
}
