/**
 * Server-side TLS on an accepted client socket, after the protocol's own "S" answer (PostgreSQL's
 * SSLRequest, MySQL's SSL flag). TLS 1.2 or newer with the proxy's local certificate.
 */
import type { Duplex } from "node:stream";
import { createSecureContext, TLSSocket } from "node:tls";
import { ClientFacingError } from "./types.ts";

export interface LocalTlsMaterial {
  readonly cert: string;
  readonly key: string;
}

/** How long a client may take to finish the local TLS handshake. */
const HANDSHAKE_TIMEOUT_MS = 15_000;

export function acceptLocalTls(socket: Duplex, material: LocalTlsMaterial): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = new TLSSocket(socket as never, {
      isServer: true,
      secureContext: createSecureContext({ cert: material.cert, key: material.key, minVersion: "TLSv1.2" }),
    });
    const timer = setTimeout(() => fail(new Error("timed out")), HANDSHAKE_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      tls.destroy();
      reject(new ClientFacingError("08P01", `local TLS handshake with the client failed: ${error.message}`));
    };
    tls.once("error", fail);
    tls.once("secure", () => {
      clearTimeout(timer);
      tls.off("error", fail);
      resolve(tls);
    });
  });
}
