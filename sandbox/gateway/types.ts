/**
 * Contract between the sandbox composition (sandbox/index.ts) and the SSM gateway + agent emulator
 * (sandbox/gateway/, sandbox/agent/). Written first so both sides can be built in parallel.
 */

/** Faults the agent emulator injects into one session's data channel (ssm-session-protocol.md §13). */
export interface FaultPlan {
  /** Probability [0,1] that an outgoing agent stream-data message is not transmitted (first send only). @default 0 */
  readonly dropRate?: number;
  /** Probability that an outgoing stream-data message is transmitted twice. @default 0 */
  readonly duplicateRate?: number;
  /** Probability that an outgoing stream-data message is held back and sent after the next one. @default 0 */
  readonly reorderRate?: number;
  /** Extra delay in ms before each outgoing frame. @default 0 */
  readonly delayMs?: number;
  /** Probability that an acknowledge the agent owes is not sent. @default 0 */
  readonly dropAckRate?: number;
  /** Probability that an outgoing stream-data message has its payload digest corrupted. @default 0 */
  readonly corruptDigestRate?: number;
  /** Close the WebSocket (once) after the agent has sent this many stream-data messages. @default never */
  readonly closeWebSocketAfter?: number;
  /** Refuse every destination dial (mux: ConnectToPortError flag + FIN). @default false */
  readonly refuseDial?: boolean;
  /** ResumeSession answers without a TokenValue (the "session timed out" path). @default false */
  readonly resumeWithoutToken?: boolean;
  /** Agent version announced in the HandshakeRequest (selects mux/keepalive/basic). @default "3.3.987.0" */
  readonly agentVersion?: string;
  /** Seed for the fault PRNG so a failing run can be replayed. @default random */
  readonly seed?: number;
  /**
   * Hand destination bytes on as they arrive instead of the agent's paced reads (1024 bytes, then 1 ms):
   * only for measuring a client's own CPU cost; no real agent behaves like this. @default false
   */
  readonly unpaced?: boolean;
  /**
   * The service closes the data-channel WebSocket with code 1000 this long after every attach, as it does
   * about once an hour (session-manager-plugin #135); the client must ResumeSession. @default never
   */
  readonly closeWebSocketEveryMs?: number;
  /**
   * ResumeSession is refused (AccessDeniedException, HTTP 400/403 class) once the session is this old,
   * as seen near 60 minutes with temporary credentials (session-manager-plugin #136). @default never
   */
  readonly refuseResumeAfterMs?: number;
}

export interface SandboxCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Where the jump host's "VPC DNS" sends a destination: the local PostgreSQL for RDS endpoints.
 * `localAddress` is the loopback source address to dial from: the sandbox PostgreSQL tells databases
 * apart by it (each sandbox database is its own endpoint identity for IAM tokens, see rds-mirror.ts).
 */
export type DestinationResolver = (
  host: string,
  port: number,
) => Promise<{ host: string; port: number; localAddress?: string }>;

export interface GatewayOptions {
  /** moto server base URL, e.g. http://127.0.0.1:5001 — every non-Session-Manager call is proxied there. */
  readonly motoUrl: string;
  readonly region: string;
  /** The sandbox credentials: requests signed with another access key id are refused like AWS does. */
  readonly credentials: SandboxCredentials;
  readonly resolveDestination: DestinationResolver;
  /** Loopback port to listen on. @default 0 (a free port) */
  readonly port?: number;
  /** Faults applied to every new session unless overridden per session. @default none */
  readonly defaultFaults?: FaultPlan;
  /**
   * A second credential pair that AWS "knows" but whose role may not start sessions: every call is
   * proxied as usual, but StartSession answers AccessDeniedException (so the CLI's AccessDenied path is
   * testable). @default none
   */
  readonly restrictedCredentials?: SandboxCredentials;
  /** Account id used in ARNs of error messages. @default "123456789012" (moto's default account) */
  readonly accountId?: string;
  /** Caller name that prefixes SessionIds (`<caller>-<17 hex>`), like an IAM user or role session. @default "dbtunnel-sandbox" */
  readonly callerId?: string;
  /**
   * Verify the SHA-256 payload digest of every client frame and count failures (frames that fail are
   * dropped unacked). The real agent skips this check; a test oracle is stricter. @default true
   */
  readonly verifyClientDigests?: boolean;
  /**
   * Session Manager's idle session timeout (preferences `idleSessionTimeout`, 1-60 min, default 20): a
   * session in which no tunnel data moved either way for this long is terminated by the service (the agent
   * has no idle timer). A client that vanished without TerminateSession is idle too. @default 1 200 000 (20 min)
   */
  readonly idleSessionTimeoutMs?: number;
  /** Preferences `maxSessionDuration`: the service terminates every session this old. @default none */
  readonly maxSessionDurationMs?: number;
  /**
   * How the jump host resolves a document `host` for the agent's deny list check (once per session).
   * @default IP literals as themselves, "localhost" as 127.0.0.1 and ::1, other names unresolved (like a
   * failed lookup, which the agent does not treat as a refusal)
   */
  readonly lookupHost?: (host: string) => Promise<readonly string[]>;
  /** The VPC CIDR blocks of the jump host: their reserved addresses join the agent's deny list. @default none */
  readonly vpcCidrs?: readonly string[];
  /** Called with one line per notable emulator event (digest failures, faults fired, dial errors). @default silent */
  readonly log?: (line: string) => void;
}

/** Per-session counters the emulator exposes to tests (`Gateway.sessions()`, `GET /_dbtunnel/sessions`). */
export interface SessionStats {
  readonly sessionId: string;
  readonly target: string;
  /** "pending" until the HandshakeResponse has been processed. */
  readonly mode: "pending" | "mux" | "basic";
  /** smux keepalive (NOPs + idle cut-off) on the agent side. */
  readonly keepalive: boolean;
  readonly agentVersion: string;
  /** From the HandshakeResponse; "" until then. */
  readonly clientVersion: string;
  /** Seed of the fault PRNG: set it in a FaultPlan to replay a run. */
  readonly seed: number;
  readonly handshakeComplete: boolean;
  /** WebSocket attachments with a valid token (1 + number of successful reconnects). */
  readonly webSocketConnections: number;
  /** Stream-data messages received from / sent to the client (first transmissions; duplicates not counted). */
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Tunnel payload bytes (PayloadType Output) received from / sent to the client. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly acksSent: number;
  readonly acksReceived: number;
  readonly retransmissions: number;
  /** The agent's retransmission timeout now and the highest it reached (ms; from the client's acks). */
  readonly rtoMs: number;
  readonly rtoMaxMs: number;
  /** Duplicate client messages (seq below the expected one) that were acknowledged again. */
  readonly duplicatesReacked: number;
  /** Client frames whose payload digest did not match (dropped, not acked). */
  readonly digestFailures: number;
  /** Client frames that failed to decode for another reason (dropped). */
  readonly malformedFrames: number;
  /** Client data dropped without ack because the port session had no live connection (readiness gating). */
  readonly notReadyDrops: number;
  readonly streamsOpened: number;
  readonly dialFailures: number;
  /** Destination reads are paced like the agent's (false only with the `unpaced` fault). */
  readonly paced: boolean;
  /** Output messages sent while the 100 000-message outgoing buffer was full: never stored, never resent. */
  readonly outgoingNotStored: number;
  /** Times the agent's WebSocket reader blocked on a full destination (acks stop too). */
  readonly readerBlocks: number;
  /** Faults that fired. */
  readonly faults: {
    readonly dropped: number;
    readonly duplicated: number;
    readonly reordered: number;
    readonly acksDropped: number;
    readonly digestsCorrupted: number;
    readonly webSocketsClosed: number;
    readonly dialsRefused: number;
  };
  readonly terminateFlagReceived: boolean;
  readonly terminated: boolean;
  /** Why the session ended ("TerminateSession flag", "TerminateSession API", "handshake timed out", ...). */
  readonly terminateReason?: string;
}

export interface Gateway {
  /** The AWS_ENDPOINT_URL clients use, e.g. http://127.0.0.1:4566 */
  readonly url: string;
  readonly port: number;
  /** Set faults for one live session, or (without id) the defaults for sessions started from now on. */
  setFaults(plan: FaultPlan, sessionId?: string): void;
  /** Ids of sessions that are not terminated. */
  activeSessions(): string[];
  /** Stats of every session this gateway started (terminated ones included), oldest first. */
  sessions(): SessionStats[];
  /** Stats of one session, or undefined for an unknown id. */
  sessionStats(sessionId: string): SessionStats | undefined;
  stop(): Promise<void>;
}
