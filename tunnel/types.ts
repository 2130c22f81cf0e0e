/**
 * Public contract of the native Session Manager port-forwarding client. The CLI, the e2e suite and the
 * benchmarks code against these types; tunnel/index.ts implements `openTunnel`.
 */
import type { SSMClient } from "@aws-sdk/client-ssm";

export interface OpenTunnelOptions {
  /** EC2 instance id (`i-...`) or ECS Exec target (`ecs:<cluster>_<taskId>_<runtimeId>`). */
  readonly target: string;
  /** Host the agent dials from inside the VPC, e.g. the RDS endpoint. */
  readonly host: string;
  /** Remote port, e.g. 5432. */
  readonly port: number;
  /** Local TCP port to listen on. @default 0 (a free port chosen by the OS) */
  readonly localPort?: number;
  /** Local address to bind. @default "127.0.0.1" */
  readonly localHost?: string;
  /** SSM client for Start/Resume/TerminateSession. @default a new SSMClient with the standard chain (honours AWS_ENDPOINT_URL) */
  readonly ssm?: SSMClient;
  /** Document to start. @default "AWS-StartPortForwardingSessionToRemoteHost" */
  readonly documentName?: string;
  /** Reason recorded with StartSession (CloudTrail). @default none */
  readonly reason?: string;
  /** Abort opening (and close the tunnel once open). */
  readonly signal?: AbortSignal;
  /**
   * Receives every event from the start, including those before `openTunnel` resolves
   * (session-started, handshake-complete, listening). @default none
   */
  readonly onEvent?: (event: TunnelEvent) => void;
}

/** A session someone else started (the AWS CLI, for the session-manager-plugin entry). */
export interface ExistingSession {
  readonly SessionId: string;
  readonly StreamUrl: string;
  readonly TokenValue: string;
}

/** Options of `attachTunnel`: like OpenTunnelOptions, minus what StartSession already decided. */
export interface AttachTunnelOptions
  extends Omit<OpenTunnelOptions, "target" | "documentName" | "reason" | "host" | "port"> {
  readonly session: ExistingSession;
  /** Remote host/port, only used in connection-failed events. @default from the handshake properties */
  readonly host?: string;
  readonly port?: number;
}

/** Events a tunnel reports while it lives. Never carries tokens or payload bytes. */
export type TunnelEvent =
  | { readonly type: "session-started"; readonly sessionId: string }
  | { readonly type: "handshake-complete"; readonly agentVersion: string; readonly mode: "mux" | "basic" }
  | { readonly type: "listening"; readonly host: string; readonly port: number }
  | { readonly type: "connection-opened"; readonly id: number }
  | {
      readonly type: "connection-closed";
      readonly id: number;
      readonly bytesIn: number;
      readonly bytesOut: number;
    }
  /** The agent could not reach host:port for this connection (ConnectToPortError); the session survives. */
  | {
      readonly type: "connection-failed";
      readonly id: number;
      readonly host: string;
      readonly port: number;
      readonly message: string;
    }
  | { readonly type: "reconnecting"; readonly attempt: number; readonly reason: string }
  | { readonly type: "reconnected" }
  | { readonly type: "closed"; readonly reason: TunnelCloseReason };

export type TunnelCloseReason =
  | { readonly kind: "local" } // close() or signal
  | { readonly kind: "channel-closed"; readonly message: string } // agent/MGS ended it
  | { readonly kind: "timed-out"; readonly message: string } // ResumeSession gave no token / resend exhausted
  | { readonly kind: "error"; readonly message: string };

export interface Tunnel {
  readonly sessionId: string;
  /** Local port actually listened on. */
  readonly port: number;
  readonly host: string;
  readonly mode: "mux" | "basic";
  /** Subscribe to events; returns an unsubscribe function. */
  on(listener: (event: TunnelEvent) => void): () => void;
  /** Sends TerminateSession, waits briefly (≤ 1 s) for its ack, calls the TerminateSession API, closes the listener. Idempotent. */
  close(): Promise<void>;
  /** Resolves once the tunnel is closed, for whatever reason. */
  readonly closed: Promise<TunnelCloseReason>;
}

/** Stable error codes; every TunnelError message is one line that says what was wrong and what to do. */
export type TunnelErrorCode =
  | "NoCredentials"
  | "ExpiredCredentials"
  | "AccessDenied"
  | "InvalidTarget"
  | "TargetNotConnected"
  | "InvalidDocument"
  | "LocalPortInUse"
  | "HandshakeFailed"
  | "ProtocolError"
  | "ConnectionFailed"
  | "Aborted";

export class TunnelError extends Error {
  override readonly name = "TunnelError";
  constructor(
    readonly code: TunnelErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
