/**
 * One MySQL client connection through the proxy:
 *   stream to the database port ── server greeting ── proxy greeting (the server's thread id, a
 *   mysql_native_password challenge) ── client login checked against the local secret (any client, no
 *   cleartext plugin needed) ── SSLRequest + TLS verify-full ── login with a fresh IAM token as
 *   mysql_clear_password (inside TLS) ── the server's OK to the client ── bytes relayed both ways.
 * Failures reach the client as an ERR packet with the reason and the fix.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Duplex } from "node:stream";
import {
  authSwitchRequest,
  CLEAR_PASSWORD,
  CLIENT,
  errPacket,
  type Greeting,
  greeting,
  type HandshakeResponse,
  handshakeResponsePayload,
  isSslRequest,
  MysqlServerError,
  NATIVE_PASSWORD,
  nativePasswordResponse,
  PROXY_CAPABILITIES,
  packet,
  parseAuthSwitch,
  parseErr,
  parseGreeting,
  parseHandshakeResponse,
  sslRequestPayload,
} from "./mysql-wire.ts";
import { relay } from "./relay.ts";
import { EndOfStream, StreamReader } from "./stream-reader.ts";
import { ClientFacingError, type LocalAuth, type ProxyEvent, type UpstreamTarget } from "./types.ts";
import { verifiedTls } from "./upstream-tls.ts";

export interface MysqlConnectionContext {
  readonly id: number;
  readonly upstream: UpstreamTarget;
  readonly auth: LocalAuth;
  readonly emit: (event: ProxyEvent) => void;
}

const MAX_LOGIN_PACKET = 1 << 20;
/** Capabilities that change the bytes of results: client and server must agree on them exactly. */
const WIRE_FORMAT_CAPABILITIES =
  CLIENT.PROTOCOL_41 |
  CLIENT.DEPRECATE_EOF |
  CLIENT.SESSION_TRACK |
  CLIENT.MULTI_RESULTS |
  CLIENT.PS_MULTI_RESULTS;
/** What clients see as the server version: clients pick features by it; the relayed server decides. */
export const PROXY_SERVER_VERSION = "8.0.36-dbtunnel-proxy";
/** MySQL's own error numbers for the cases the proxy reports. */
const ER_ACCESS_DENIED = 1045;
const ER_HANDSHAKE = 1043;
const CR_CONNECTION_ERROR = 2002;

export async function serveMysqlClient(client: Duplex, ctx: MysqlConnectionContext): Promise<void> {
  const started = performance.now();
  const reader = new StreamReader(client);
  let user: string | undefined;
  let counted = { bytesIn: 0, bytesOut: 0 };
  let sequence = -1;
  let upstreamGreeted: GreetedUpstream | undefined;
  try {
    // The server first: the client is told the server's own thread id, so what it kills with `KILL QUERY
    // <id>` (the mysql client's Ctrl-C, a GUI's cancel, on a connection of its own through the proxy) and
    // what `CONNECTION_ID()` returns are the thread its queries run on.
    upstreamGreeted = await greetUpstream(ctx.upstream);
    const scramble = randomScramble();
    client.write(
      packet(
        0,
        greeting({
          serverVersion: PROXY_SERVER_VERSION,
          connectionId: upstreamGreeted.server.connectionId,
          capabilities: PROXY_CAPABILITIES,
          scramble,
          authPlugin: NATIVE_PASSWORD,
        }),
      ),
    );
    sequence = 0;
    let first: { sequence: number; payload: Buffer };
    try {
      first = await reader.readMysqlPacket(MAX_LOGIN_PACKET);
    } catch (error) {
      if (error instanceof EndOfStream) return;
      throw error;
    }
    sequence = first.sequence;
    if (isSslRequest(first.payload)) {
      throw new ClientFacingError(
        "08004",
        "the dbtunnel proxy offers no TLS for MySQL clients on 127.0.0.1",
        "connect without SSL (--ssl-mode=DISABLED, or --skip-ssl); the proxy verifies TLS to the database itself",
      );
    }
    const login = parseHandshakeResponse(first.payload);
    user = login.user;
    const capabilities = (login.capabilities & PROXY_CAPABILITIES) >>> 0;
    sequence = await authenticateLocally(client, reader, login, scramble, sequence, ctx);

    const upstream = await loginUpstream(ctx.upstream, upstreamGreeted, { ...login, capabilities });
    try {
      client.write(packet(sequence + 1, upstream.ok));
      ctx.emit({ type: "client-authenticated", id: ctx.id, user, database: login.database ?? "" });
      const early = reader.detach();
      const ahead = upstream.reader.detach();
      if (ahead.length > 0) client.write(ahead);
      if (early.length > 0) upstream.socket.write(early);
      counted = await relay(client, upstream.socket);
    } finally {
      upstream.socket.destroy();
    }
  } catch (error) {
    upstreamGreeted?.stream.destroy();
    await reportFailure(client, error, sequence + 1, ctx, user);
  } finally {
    // Also when the client left before logging in: the database's side of the stream goes with it.
    upstreamGreeted?.stream.destroy();
    client.destroy();
    ctx.emit({
      type: "client-disconnected",
      id: ctx.id,
      ...counted,
      ms: Math.round(performance.now() - started),
    });
  }
}

/** Checks the client's mysql_native_password answer against the local secret; returns the last sequence id. */
async function authenticateLocally(
  client: Duplex,
  reader: StreamReader,
  login: HandshakeResponse,
  scramble: Buffer,
  sequence: number,
  ctx: MysqlConnectionContext,
): Promise<number> {
  if (ctx.auth.kind === "none") return sequence;
  let answer = login.authResponse;
  let last = sequence;
  if (login.authPlugin !== undefined && login.authPlugin !== NATIVE_PASSWORD) {
    // MySQL 8 clients start with caching_sha2_password: ask for the plugin every client has.
    client.write(packet(last + 1, authSwitchRequest(NATIVE_PASSWORD, scramble)));
    const reply = await reader.readMysqlPacket(MAX_LOGIN_PACKET);
    answer = reply.payload;
    last = reply.sequence;
  }
  const expected = nativePasswordResponse(ctx.auth.secret, scramble);
  if (answer.length === expected.length && timingSafeEqual(answer, expected)) return last;
  throw new LocalRefusal(
    `Access denied for user '${login.user}' at the dbtunnel proxy: the password is the local secret of the engineer who started the proxy (run 'dbtunnel proxy --show-secret' as that user and save it as the password)`,
    last,
  );
}

/** A stream to the database and its greeting, read before the client is greeted. */
interface GreetedUpstream {
  readonly stream: Duplex;
  readonly reader: StreamReader;
  readonly server: Greeting;
}

async function greetUpstream(target: UpstreamTarget): Promise<GreetedUpstream> {
  let stream: Duplex;
  try {
    stream = await target.streams.open();
  } catch (error) {
    if (error instanceof ClientFacingError) throw error;
    throw new ClientFacingError(
      "08001",
      `dbtunnel proxy could not open a stream to ${target.endpoint}:${target.port}: ${(error as Error).message}`,
    );
  }
  const reader = new StreamReader(stream);
  try {
    const hello = await reader.readMysqlPacket(MAX_LOGIN_PACKET).catch((error) => {
      throw error instanceof EndOfStream
        ? new ClientFacingError(
            "08006",
            `the connection to ${target.endpoint}:${target.port} closed before the server greeted`,
            "the jump host could not reach the database (check that it is available and its security group admits the jump host), or no session was live in time (see the proxy's output)",
          )
        : error;
    });
    return { stream, reader, server: parseGreeting(hello.payload) };
  } catch (error) {
    reader.detach();
    stream.destroy();
    throw error;
  }
}

/** Verified TLS to the server, then the IAM token as mysql_clear_password; resolves with the server's OK payload. */
async function loginUpstream(
  target: UpstreamTarget,
  greeted: GreetedUpstream,
  login: HandshakeResponse,
): Promise<{ socket: Duplex; reader: StreamReader; ok: Buffer }> {
  const { stream, server } = greeted;
  const raw = greeted.reader;
  let socket: Duplex = stream;
  let reader = raw;
  try {
    if (!(server.capabilities & CLIENT.SSL)) {
      throw new ClientFacingError(
        "08006",
        `the database at ${target.endpoint}:${target.port} offers no TLS`,
        "the proxy only talks TLS to the database; check the endpoint in the stack outputs",
      );
    }
    const missing = (login.capabilities & ~server.capabilities & ~CLIENT.SSL) >>> 0;
    if (missing & WIRE_FORMAT_CAPABILITIES) {
      // The client agreed these with the proxy; a server without them would send bytes the client misreads.
      throw new ClientFacingError(
        "08004",
        `the database lacks protocol capabilities the proxy offered (0x${missing.toString(16)}): ${server.serverVersion} is older than MySQL 5.7 / MariaDB 10.2`,
        "use 'dbtunnel connect' for this server",
      );
    }
    const capabilities =
      (login.capabilities |
        CLIENT.SSL |
        CLIENT.PLUGIN_AUTH |
        CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA |
        CLIENT.SECURE_CONNECTION) &
      ~missing;
    stream.write(packet(1, sslRequestPayload(capabilities, login.maxPacket, login.charset)));
    raw.detach();
    socket = await verifiedTls(stream, { servername: target.endpoint, ca: target.ca });
    reader = new StreamReader(socket);
    const token = Buffer.from(`${await target.tokens(login.user)}\0`);
    socket.write(
      packet(
        2,
        handshakeResponsePayload({
          ...login,
          capabilities,
          authResponse: token,
          authPlugin: CLEAR_PASSWORD,
          ...(login.database ? { database: login.database } : {}),
        }),
      ),
    );
    for (;;) {
      const reply = await reader.readMysqlPacket(MAX_LOGIN_PACKET).catch((error) => {
        throw error instanceof EndOfStream
          ? new ClientFacingError(
              "08006",
              `the database closed the connection during login as '${login.user}'`,
            )
          : error;
      });
      const kind = reply.payload[0];
      if (kind === 0x00) return { socket, reader, ok: reply.payload };
      if (kind === 0xff) throw new MysqlServerError(parseErr(reply.payload));
      if (kind === 0xfe) {
        const { plugin } = parseAuthSwitch(reply.payload);
        if (plugin !== CLEAR_PASSWORD) {
          throw new ClientFacingError(
            "28000",
            `the database asked '${login.user}' for ${plugin}, not an IAM token: IAM authentication is not enabled for this user`,
            `an administrator runs: CREATE USER '${login.user}' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' (and grants it what it needs)`,
          );
        }
        socket.write(packet(reply.sequence + 1, token));
        continue;
      }
      if (kind === 0x01 && reply.payload[1] === 0x04) {
        // caching_sha2_password's "full authentication": the password in clear, allowed inside TLS.
        socket.write(packet(reply.sequence + 1, token));
        continue;
      }
      if (kind === 0x01) continue;
      throw new ClientFacingError(
        "08S01",
        `unexpected packet 0x${(kind ?? 0).toString(16)} from the database during login`,
      );
    }
  } catch (error) {
    reader.detach();
    socket.destroy();
    stream.destroy();
    throw error;
  }
}

class LocalRefusal extends Error {
  override readonly name = "LocalRefusal";
  constructor(
    message: string,
    readonly sequence: number,
  ) {
    super(message);
  }
}

async function reportFailure(
  client: Duplex,
  error: unknown,
  sequence: number,
  ctx: MysqlConnectionContext,
  user: string | undefined,
): Promise<void> {
  let fields: { code: number; sqlstate: string; message: string };
  let refused = false;
  if (error instanceof LocalRefusal) {
    refused = true;
    sequence = error.sequence + 1;
    fields = { code: ER_ACCESS_DENIED, sqlstate: "28000", message: error.message };
  } else if (error instanceof MysqlServerError) {
    const f = error.fields;
    const fix =
      f.code === ER_ACCESS_DENIED
        ? ` (dbtunnel proxy: the IAM token for '${user}' at ${ctx.upstream.endpoint} was refused: check that the user exists IDENTIFIED WITH AWSAuthenticationPlugin and that your IAM policy allows rds-db:connect for it)`
        : "";
    fields = { ...f, message: `${f.message}${fix}` };
  } else if (error instanceof ClientFacingError) {
    fields = {
      code: error.sqlstate === "28000" ? ER_ACCESS_DENIED : CR_CONNECTION_ERROR,
      sqlstate: error.sqlstate,
      message: error.fix ? `${error.message}: ${error.fix}` : error.message,
    };
  } else {
    fields = {
      code: ER_HANDSHAKE,
      sqlstate: "08S01",
      message: `dbtunnel proxy: ${(error as Error)?.message ?? String(error)}`,
    };
  }
  ctx.emit({
    type: refused ? "client-refused" : "upstream-failed",
    id: ctx.id,
    ...(user ? { user } : {}),
    reason: fields.message,
  });
  if (!client.writable) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    client.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    client.end(packet(sequence, errPacket(fields)));
  });
}

function randomScramble(): Buffer {
  // 20 bytes without NUL (the greeting carries them as a C string) and printable like MySQL's own.
  return Buffer.from([...randomBytes(20)].map((b) => 0x21 + (b % 94)));
}
