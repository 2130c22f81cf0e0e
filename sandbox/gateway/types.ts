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
}

export interface SandboxCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Where the jump host's "VPC DNS" sends a destination: the local PostgreSQL for RDS endpoints. */
export type DestinationResolver = (host: string, port: number) => Promise<{ host: string; port: number }>;

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
}

export interface Gateway {
  /** The AWS_ENDPOINT_URL clients use, e.g. http://127.0.0.1:4566 */
  readonly url: string;
  readonly port: number;
  /** Set faults for one live session, or (without id) the defaults for sessions started from now on. */
  setFaults(plan: FaultPlan, sessionId?: string): void;
  /** Ids of sessions that are not terminated. */
  activeSessions(): string[];
  stop(): Promise<void>;
}
