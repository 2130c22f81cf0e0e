/**
 * TLS to the database, in process, with verify-full semantics: the certificate must chain to the given CA
 * bundle and name the real endpoint (Node's checkServerIdentity against `servername`), TLS 1.2 or newer.
 * There is no option to weaken any of it.
 */
import type { Duplex } from "node:stream";
import { connect, type TLSSocket } from "node:tls";
import { ClientFacingError } from "./types.ts";

export interface VerifiedTlsOptions {
  readonly servername: string;
  readonly ca: string;
  /** ALPN protocols to offer. @default none */
  readonly alpn?: readonly string[];
}

/** Wraps `stream` in TLS and resolves once the handshake has verified the server. */
export function verifiedTls(stream: Duplex, options: VerifiedTlsOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = connect({
      socket: stream,
      servername: options.servername,
      ca: options.ca,
      minVersion: "TLSv1.2",
      rejectUnauthorized: true,
      ...(options.alpn ? { ALPNProtocols: [...options.alpn] } : {}),
    });
    const fail = (error: Error) => {
      tls.destroy();
      stream.destroy();
      reject(explainTlsFailure(error, options.servername));
    };
    tls.once("error", fail);
    tls.once("secureConnect", () => {
      tls.off("error", fail);
      resolve(tls);
    });
  });
}

/** Certificate problems in words a GUI user can act on. */
export function explainTlsFailure(error: Error, servername: string): ClientFacingError {
  const code = (error as { code?: string }).code ?? "";
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return new ClientFacingError(
      "08006",
      `dbtunnel proxy: the database certificate does not name ${servername} (${error.message})`,
      "check that the stack outputs name the real endpoint; the proxy verifies it and will not connect otherwise",
    );
  }
  if (/CERT|SIGNATURE|ISSUER|SELF_SIGNED|UNABLE_TO/i.test(code)) {
    return new ClientFacingError(
      "08006",
      `dbtunnel proxy: the certificate of ${servername} is not signed by the CA bundle (${code})`,
      "pass the RDS CA bundle with --ca-bundle (or DBTUNNEL_CA_BUNDLE); verification cannot be turned off",
    );
  }
  return new ClientFacingError(
    "08006",
    `dbtunnel proxy: TLS with ${servername} failed (${error.message})`,
    "check that the database requires TLS 1.2 or newer and is reachable from the jump host",
  );
}
