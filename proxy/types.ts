/**
 * The proxy's contract with the rest of dbtunnel. The proxy itself knows nothing of AWS or Session Manager:
 * it is given a source of byte streams to the database port, the certificate facts to verify, and a
 * source of IAM tokens. The CLI wires those to the tunnel and the RDS signer.
 */
import type { Duplex } from "node:stream";

/** Opens a fresh byte stream to the database's host:port (e.g. through a Session Manager session). */
export interface StreamSource {
  open(): Promise<Duplex>;
}

/** A fresh IAM auth token for `user`, signed for the real endpoint and port, when a connection starts. */
export type TokenSource = (user: string) => Promise<string>;

export interface UpstreamTarget {
  readonly engine: "postgres" | "mysql";
  /** The real endpoint: the TLS server name to verify and what tokens are signed for. */
  readonly endpoint: string;
  readonly port: number;
  /** PEM bundle of the CAs that may sign the database certificate (the RDS global bundle). */
  readonly ca: string;
  readonly streams: StreamSource;
  readonly tokens: TokenSource;
  /** Database when the client names none. @default the client's user name (PostgreSQL's own default) */
  readonly defaultDatabase?: string;
}

/** How clients prove they are the engineer: the local secret, or nothing (`--no-local-auth`). */
export type LocalAuth = { readonly kind: "secret"; readonly secret: string } | { readonly kind: "none" };

/** What the proxy reports. Never carries passwords, tokens or payload bytes. */
export type ProxyEvent =
  | { readonly type: "client-connected"; readonly id: number; readonly remotePort: number }
  | {
      readonly type: "client-authenticated";
      readonly id: number;
      readonly user: string;
      readonly database: string;
    }
  | {
      readonly type: "client-refused";
      readonly id: number;
      readonly user?: string;
      readonly reason: string;
    }
  | { readonly type: "upstream-failed"; readonly id: number; readonly user?: string; readonly reason: string }
  | {
      readonly type: "client-disconnected";
      readonly id: number;
      readonly bytesIn: number;
      readonly bytesOut: number;
      readonly ms: number;
    }
  | { readonly type: "cancel-forwarded"; readonly id: number }
  | { readonly type: "cancel-ignored"; readonly id: number; readonly reason: string };

/** An error the client should see, with a reason and a fix (PostgreSQL ErrorResponse / MySQL ERR packet). */
export class ClientFacingError extends Error {
  override readonly name = "ClientFacingError";
  constructor(
    /** SQLSTATE (PostgreSQL; MySQL uses its own code table). */
    readonly sqlstate: string,
    message: string,
    readonly fix?: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}
