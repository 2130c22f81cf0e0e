/**
 * The proxy's listener: 127.0.0.1 only (never configurable: the local secret is the only thing between
 * other machines and the engineer's database identity otherwise), one handler per client connection,
 * chosen by the target's engine. Connections live independently; closing the proxy ends them all.
 */
import { createServer, type Server, type Socket } from "node:net";
import { CancelKeys } from "./cancel-keys.ts";
import type { LocalTlsMaterial } from "./local-tls-accept.ts";
import { serveMysqlClient } from "./mysql-connection.ts";
import { servePgClient } from "./pg-connection.ts";
import type { LocalAuth, ProxyEvent, UpstreamTarget } from "./types.ts";

export const PROXY_HOST = "127.0.0.1";

export interface ProxyOptions {
  readonly upstream: UpstreamTarget;
  readonly auth: LocalAuth;
  /** Certificate for clients that ask for TLS (PostgreSQL SSLRequest). @default none: plain loopback */
  readonly localTls?: LocalTlsMaterial;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default none */
  readonly onEvent?: (event: ProxyEvent) => void;
  /** @default LOGIN_TIMEOUT_MS */
  readonly loginTimeoutMs?: number;
}

export interface RunningProxy {
  readonly host: typeof PROXY_HOST;
  readonly port: number;
  /** Client connections open now. */
  connections(): number;
  /** Stops listening and ends every client connection. Idempotent. */
  close(): Promise<void>;
}

export class ProxyListenError extends Error {
  override readonly name = "ProxyListenError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A client must finish logging in within this time; a silent one would otherwise hold its socket forever. */
export const LOGIN_TIMEOUT_MS = 60_000;

type ClientHandler = (client: Socket, id: number) => Promise<void>;

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const report = options.onEvent ?? (() => {});
  const cancelKeys = new CancelKeys();
  const open = new Set<Socket>();
  const loggingIn = new Map<number, Socket>();
  const emit = (event: ProxyEvent) => {
    // Logged in (or gone): no login deadline any more; idle sessions are the database's business.
    if (event.type === "client-authenticated" || event.type === "client-disconnected") {
      loggingIn.get(event.id)?.setTimeout(0);
      loggingIn.delete(event.id);
    }
    report(event);
  };
  let nextId = 1;
  const handler: ClientHandler =
    options.upstream.engine === "mysql"
      ? (client, id) => serveMysqlClient(client, { id, upstream: options.upstream, auth: options.auth, emit })
      : (client, id) =>
          servePgClient(client, {
            id,
            upstream: options.upstream,
            auth: options.auth,
            ...(options.localTls ? { localTls: options.localTls } : {}),
            cancelKeys,
            emit,
          });
  const server = createServer((client) => {
    const id = nextId++;
    open.add(client);
    client.setNoDelay(true);
    client.once("close", () => open.delete(client));
    client.on("error", () => {}); // reported by the handler; an unhandled 'error' would crash the process
    loggingIn.set(id, client);
    client.setTimeout(options.loginTimeoutMs ?? LOGIN_TIMEOUT_MS, () => {
      if (loggingIn.has(id)) client.destroy();
    });
    emit({ type: "client-connected", id, remotePort: client.remotePort ?? 0 });
    void handler(client, id);
  });
  await listen(server, options.port ?? 0);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  let closing: Promise<void> | undefined;
  return {
    host: PROXY_HOST,
    port,
    connections: () => open.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const client of open) client.destroy();
      });
      return closing;
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new ProxyListenError(
            "LocalPortInUse",
            `Local port ${port} is already in use: pick another with --local-port, or stop what listens there.`,
          ),
        );
      } else
        reject(
          new ProxyListenError("ListenFailed", `Cannot listen on ${PROXY_HOST}:${port}: ${error.message}`),
        );
    });
    server.listen({ port, host: PROXY_HOST, exclusive: true }, () => resolve());
  });
}
