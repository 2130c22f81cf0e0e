import { createServer, type Server, type Socket } from "node:net";
import {
  BerError,
  concat,
  decodeLdapMessage,
  encodeBindResponse,
  RESULT_AUTH_METHOD_NOT_SUPPORTED,
  RESULT_INVALID_CREDENTIALS,
  RESULT_PROTOCOL_ERROR,
  RESULT_SUCCESS,
  readTlv,
} from "./ldap-ber.ts";

/** Decides a simple bind: `dn` as PostgreSQL built it, `password` = what the client sent (the IAM token). */
export type BindVerifier = (
  dn: string,
  password: string,
) => Promise<{ ok: true } | { ok: false; reason: string }>;

export interface LdapVerifierOptions {
  readonly verify: BindVerifier;
  /** Receives one line per refusal (reason, never the password). @default console.error */
  readonly log?: (line: string) => void;
  /** @default 0 (a free loopback port) */
  readonly port?: number;
}

export interface LdapVerifier {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A minimal LDAP server that only understands simple binds — just enough for PostgreSQL's `ldap` auth
 * method in simple-bind mode, which is how the sandbox plays RDS's `rds_iam` IAM authentication with
 * full-length tokens (pam_exec would cut them at 511 bytes). Listens on 127.0.0.1 only.
 */
export async function startLdapVerifier(opts: LdapVerifierOptions): Promise<LdapVerifier> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    // libpq → postgres → here is local and quick; an idle connection is a stuck client.
    socket.setTimeout(30_000, () => socket.destroy());
    let pending: Uint8Array = new Uint8Array(0);
    let busy = Promise.resolve();
    socket.on("data", (chunk: Buffer) => {
      pending = concat(pending, chunk);
      busy = busy.then(async () => {
        try {
          for (;;) {
            const tlv = readTlv(pending);
            if (!tlv) return;
            pending = pending.slice(tlv.size);
            const request = decodeLdapMessage(tlv);
            if (request.kind === "unbind") {
              socket.end();
              return;
            }
            if (request.kind === "other") {
              // Search, StartTLS, ...: PostgreSQL's simple-bind mode never sends them.
              socket.write(
                encodeBindResponse(request.messageId, RESULT_PROTOCOL_ERROR, "only simple bind is supported"),
              );
              socket.end();
              return;
            }
            if (request.password === undefined) {
              socket.write(
                encodeBindResponse(request.messageId, RESULT_AUTH_METHOD_NOT_SUPPORTED, "use simple bind"),
              );
              continue;
            }
            const verdict = await opts.verify(request.dn, request.password);
            if (verdict.ok) {
              socket.write(encodeBindResponse(request.messageId, RESULT_SUCCESS));
            } else {
              log(`dbtunnel sandbox: IAM token refused for ${JSON.stringify(request.dn)}: ${verdict.reason}`);
              socket.write(
                encodeBindResponse(request.messageId, RESULT_INVALID_CREDENTIALS, "invalid IAM token"),
              );
            }
          }
        } catch (error) {
          const message = error instanceof BerError ? error.message : String(error);
          log(`dbtunnel sandbox: LDAP verifier dropped a connection: ${message}`);
          socket.destroy();
        }
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
