/**
 * One PostgreSQL client connection through the proxy:
 *   client ── SSLRequest/GSSENCRequest answered here (local TLS optional) ── startup (user, database)
 *          ── local authentication with the per-user secret (MD5 challenge, the secret never crosses)
 *          ── stream to the database port ── SSLRequest + TLS verify-full ── startup + fresh IAM token
 *          ── AuthenticationOk, ParameterStatus, BackendKeyData (our cancel key) ── ReadyForQuery
 *          ── bytes relayed both ways.
 * Any failure before the relay reaches the client as an ErrorResponse with the reason and the fix.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Duplex } from "node:stream";
import type { CancelKeys, UpstreamKey } from "./cancel-keys.ts";
import { acceptLocalTls, type LocalTlsMaterial } from "./local-tls-accept.ts";
import {
  AUTH_CLEARTEXT,
  AUTH_MD5,
  AUTH_OK,
  AUTH_SASL,
  authenticationMd5,
  authenticationOk,
  backendKeyData,
  cancelRequest,
  errorResponse,
  MAX_LOGIN_MESSAGE,
  MAX_STARTUP_PACKET,
  negotiateProtocolVersion,
  parseErrorFields,
  parsePassword,
  parseStartupPacket,
  passwordMessage,
  type StartupPacket,
  sslRequest,
  startupMessage,
} from "./pg-wire.ts";
import { relay } from "./relay.ts";
import { EndOfStream, StreamReader } from "./stream-reader.ts";
import { ClientFacingError, type LocalAuth, type ProxyEvent, type UpstreamTarget } from "./types.ts";
import { verifiedTls } from "./upstream-tls.ts";

export interface PgConnectionContext {
  readonly id: number;
  readonly upstream: UpstreamTarget;
  readonly auth: LocalAuth;
  /** Certificate and key for clients that ask for TLS; without it SSLRequest is answered 'N'. */
  readonly localTls?: LocalTlsMaterial;
  readonly cancelKeys: CancelKeys;
  readonly emit: (event: ProxyEvent) => void;
}

/** How many SSLRequest/GSSENCRequest packets may precede the startup message (libpq sends at most two). */
const MAX_NEGOTIATION_PACKETS = 3;

/** Serves one client connection until it closes; never throws (failures go to the client and the events). */
export async function servePgClient(client: Duplex, ctx: PgConnectionContext): Promise<void> {
  const started = performance.now();
  let socket: Duplex = client;
  let user: string | undefined;
  let counted = { bytesIn: 0, bytesOut: 0 };
  try {
    const negotiated = await negotiate(client, ctx);
    if (!negotiated) return;
    socket = negotiated.socket;
    const { reader, startup } = negotiated;
    if (startup.kind !== "startup") return;
    user = startup.params.get("user");
    if (!user)
      throw new ClientFacingError("28000", "no PostgreSQL user name specified in the startup packet");
    const database = startup.params.get("database") || ctx.upstream.defaultDatabase || user;
    if ((startup.protocol & 0xffff) !== 0 || [...startup.params.keys()].some((k) => k.startsWith("_pq_."))) {
      socket.write(negotiateProtocolVersion([...startup.params.keys()].filter((k) => k.startsWith("_pq_."))));
    }
    if (!(await authenticateLocally(socket, reader, user, ctx))) return;

    const params = new Map(startup.params);
    for (const key of params.keys()) if (key.startsWith("_pq_.")) params.delete(key);
    params.set("user", user);
    params.set("database", database);
    const upstream = await loginUpstream(ctx.upstream, params, user);
    const { upstreamSocket, upstreamReader } = upstream;
    let forget: (() => void) | undefined;
    try {
      socket.write(authenticationOk());
      forget = await passServerGreeting(upstreamReader, socket, ctx.cancelKeys);
      ctx.emit({ type: "client-authenticated", id: ctx.id, user, database });
      const early = reader.detach();
      const ahead = upstreamReader.detach();
      if (ahead.length > 0) socket.write(ahead);
      if (early.length > 0) upstreamSocket.write(early);
      counted = await relay(socket, upstreamSocket);
    } finally {
      forget?.();
      upstreamSocket.destroy();
    }
  } catch (error) {
    await reportFailure(socket, error, ctx, user);
  } finally {
    socket.destroy();
    client.destroy();
    ctx.emit({
      type: "client-disconnected",
      id: ctx.id,
      ...counted,
      ms: Math.round(performance.now() - started),
    });
  }
}

/**
 * Answers SSLRequest/GSSENCRequest until the startup message (or a CancelRequest, which is forwarded here).
 * Undefined when the client left or the connection was a cancel request.
 */
async function negotiate(
  client: Duplex,
  ctx: PgConnectionContext,
): Promise<{ socket: Duplex; reader: StreamReader; startup: StartupPacket } | undefined> {
  let socket = client;
  let reader = new StreamReader(client);
  let encrypted = false;
  for (let i = 0; i < MAX_NEGOTIATION_PACKETS; i++) {
    let packet: StartupPacket;
    try {
      packet = parseStartupPacket(await reader.readLengthPrefixed(MAX_STARTUP_PACKET));
    } catch (error) {
      // Port scanners and health checks connect and leave: nothing to tell them.
      if (error instanceof EndOfStream && error.bytesBuffered === 0) return undefined;
      throw new ClientFacingError("08P01", `invalid startup packet: ${(error as Error).message}`);
    }
    if (packet.kind === "gssenc") {
      socket.write("N");
      continue;
    }
    if (packet.kind === "ssl") {
      if (!ctx.localTls || encrypted) {
        socket.write("N");
        continue;
      }
      socket.write("S");
      const ahead = reader.detach();
      if (ahead.length > 0)
        throw new ClientFacingError("08P01", "data after SSLRequest before the TLS handshake");
      socket = await acceptLocalTls(client, ctx.localTls);
      reader = new StreamReader(socket);
      encrypted = true;
      continue;
    }
    if (packet.kind === "cancel") {
      await forwardCancel(packet, ctx);
      return undefined;
    }
    return { socket, reader, startup: packet };
  }
  throw new ClientFacingError("08P01", "too many SSL/GSS negotiation requests");
}

/** MD5 challenge with the local secret (salted, so a process impersonating the proxy learns nothing reusable). */
async function authenticateLocally(
  socket: Duplex,
  reader: StreamReader,
  user: string,
  ctx: PgConnectionContext,
): Promise<boolean> {
  if (ctx.auth.kind === "none") return true;
  const salt = randomBytes(4);
  socket.write(authenticationMd5(salt));
  let answer: { type: string; body: Buffer };
  try {
    answer = await reader.readMessage(MAX_LOGIN_MESSAGE);
  } catch (error) {
    // libpq hangs up here to ask the user for a password, then reconnects.
    if (error instanceof EndOfStream) return false;
    throw error;
  }
  if (answer.type !== "p")
    throw new ClientFacingError("08P01", `expected a password message, got '${answer.type}'`);
  const expected = md5Password(ctx.auth.secret, user, salt);
  const given = Buffer.from(parsePassword(answer.body));
  if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
  throw new ClientFacingError(
    "28P01",
    `password authentication failed for user "${user}" at the dbtunnel proxy`,
    "the password is the local secret of the engineer who started the proxy: run 'dbtunnel proxy --show-secret' as that user and save it as the password",
  );
}

/** libpq's MD5 answer: "md5" + md5(md5(password + user) + salt). */
export function md5Password(password: string, user: string, salt: Buffer): Buffer {
  const inner = createHash("md5").update(password).update(user).digest("hex");
  return Buffer.from(`md5${createHash("md5").update(inner).update(salt).digest("hex")}`);
}

/** Opens a stream, verifies TLS, and logs in with a fresh IAM token. */
async function loginUpstream(
  target: UpstreamTarget,
  params: Map<string, string>,
  user: string,
): Promise<{ upstreamSocket: Duplex; upstreamReader: StreamReader }> {
  const tls = await openVerifiedPg(target);
  const reader = new StreamReader(tls);
  try {
    tls.write(startupMessage(params));
    for (;;) {
      const msg = await reader.readMessage(MAX_LOGIN_MESSAGE).catch((error) => {
        throw error instanceof EndOfStream
          ? new ClientFacingError("08006", `the database closed the connection during login as "${user}"`)
          : error;
      });
      if (msg.type === "E") throw serverError(msg.body, user, target.endpoint);
      if (msg.type === "N" || msg.type === "v") continue;
      if (msg.type !== "R")
        throw new ClientFacingError("08P01", `unexpected '${msg.type}' from the database during login`);
      const code = msg.body.readInt32BE(0);
      if (code === AUTH_OK) return { upstreamSocket: tls, upstreamReader: reader };
      if (code === AUTH_CLEARTEXT) {
        tls.write(passwordMessage(await target.tokens(user)));
        continue;
      }
      const method = code === AUTH_SASL ? "SCRAM" : code === AUTH_MD5 ? "MD5" : `method ${code}`;
      throw new ClientFacingError(
        "28000",
        `the database asked user "${user}" for a password (${method}), not an IAM token: IAM authentication is not enabled for this user`,
        `the user must exist and be granted rds_iam (an administrator runs: GRANT rds_iam TO "${user}")`,
      );
    }
  } catch (error) {
    reader.detach();
    tls.destroy();
    throw error;
  }
}

/** A new stream to the database port, upgraded to verified TLS with PostgreSQL's SSLRequest. */
async function openVerifiedPg(target: UpstreamTarget): Promise<Duplex> {
  let stream: Duplex;
  try {
    stream = await target.streams.open();
  } catch (error) {
    if (error instanceof ClientFacingError) throw error;
    throw new ClientFacingError(
      "08001",
      `dbtunnel proxy could not open a stream to ${target.endpoint}:${target.port}: ${(error as Error).message}`,
      "check the proxy's output for the session error and that your AWS credentials are still valid",
    );
  }
  const raw = new StreamReader(stream);
  try {
    stream.write(sslRequest());
    const answer = (await raw.read(1)).toString("latin1");
    raw.detach();
    if (answer !== "S") {
      throw new ClientFacingError(
        "08006",
        `the database at ${target.endpoint}:${target.port} refused TLS`,
        "the proxy only talks TLS to the database; check the endpoint in the stack outputs",
      );
    }
  } catch (error) {
    raw.detach();
    stream.destroy();
    if (error instanceof EndOfStream) {
      throw new ClientFacingError(
        "08006",
        `the connection to ${target.endpoint}:${target.port} closed before TLS started`,
        "the jump host could not reach the database (check that it is available and its security group admits the jump host), or no session was live in time (see the proxy's output)",
      );
    }
    throw error;
  }
  return verifiedTls(stream, { servername: target.endpoint, ca: target.ca });
}

/**
 * Relays the server's ParameterStatus/notices up to ReadyForQuery, swapping the BackendKeyData for a
 * client key of ours. Returns the function that forgets the key.
 */
async function passServerGreeting(
  upstream: StreamReader,
  client: Duplex,
  cancelKeys: CancelKeys,
): Promise<(() => void) | undefined> {
  let forget: (() => void) | undefined;
  for (;;) {
    const msg = await upstream.readMessage(MAX_LOGIN_MESSAGE);
    if (msg.type === "K" && msg.body.length >= 8) {
      forget?.();
      const registered = cancelKeys.register({
        pid: msg.body.readInt32BE(0),
        secret: msg.body.readInt32BE(4),
      });
      forget = registered.forget;
      client.write(backendKeyData(registered.clientKey.pid, registered.clientKey.secret));
      continue;
    }
    client.write(msg.raw);
    if (msg.type === "E") throw new AlreadyReported();
    if (msg.type === "Z") return forget;
  }
}

/** Forwards a CancelRequest with the server's real key, if the key belongs to one of our connections. */
async function forwardCancel(
  packet: Extract<StartupPacket, { kind: "cancel" }>,
  ctx: PgConnectionContext,
): Promise<void> {
  const upstreamKey: UpstreamKey | undefined = ctx.cancelKeys.lookup(packet);
  if (!upstreamKey) {
    ctx.emit({ type: "cancel-ignored", id: ctx.id, reason: "no live connection has this cancel key" });
    return;
  }
  const tls = await openVerifiedPg(ctx.upstream);
  await new Promise<void>((resolve) => {
    tls.once("close", resolve);
    tls.once("error", () => resolve());
    tls.end(cancelRequest(upstreamKey.pid, upstreamKey.secret));
  });
  tls.destroy();
  ctx.emit({ type: "cancel-forwarded", id: ctx.id });
}

/** The server's own ErrorResponse, with a fix added when it is an authentication failure. */
function serverError(body: Buffer, user: string, endpoint: string): ClientFacingError {
  const fields = parseErrorFields(body);
  const code = fields.get("C") ?? "XX000";
  const message = fields.get("M") ?? "the database refused the login";
  const authFailure = code === "28000" || code === "28P01";
  const fix =
    fields.get("H") ??
    (authFailure
      ? `the IAM token for "${user}" at ${endpoint} was refused: check that the user exists and is granted rds_iam, and that your IAM policy allows rds-db:connect for it`
      : undefined);
  return new ClientFacingError(code, message, fix, fields.get("D"));
}

/** Marks a failure the client has already been told about (the server's own ErrorResponse was relayed). */
class AlreadyReported extends Error {
  override readonly name = "AlreadyReported";
}

async function reportFailure(
  socket: Duplex,
  error: unknown,
  ctx: PgConnectionContext,
  user: string | undefined,
): Promise<void> {
  if (error instanceof AlreadyReported) {
    ctx.emit({
      type: "upstream-failed",
      id: ctx.id,
      ...(user ? { user } : {}),
      reason: "the database sent an error",
    });
    return;
  }
  const facing =
    error instanceof ClientFacingError
      ? error
      : new ClientFacingError("08006", `dbtunnel proxy: ${(error as Error)?.message ?? String(error)}`);
  const refused = facing.sqlstate === "28P01" && facing.message.includes("at the dbtunnel proxy");
  ctx.emit({
    type: refused ? "client-refused" : "upstream-failed",
    id: ctx.id,
    ...(user ? { user } : {}),
    reason: facing.message,
  });
  if (!socket.writable) return;
  const response = errorResponse({
    code: facing.sqlstate,
    message: facing.message,
    ...(facing.detail ? { detail: facing.detail } : {}),
    ...(facing.fix ? { hint: facing.fix } : {}),
  });
  // Flush before the connection is destroyed: the client must see why (never a silent close).
  // With local TLS the encrypted bytes are written after end()'s callback: wait for the close instead.
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ERROR_FLUSH_MS);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.end(response);
  });
}

/** How long a failing connection waits for its ErrorResponse to be written before closing anyway. */
const ERROR_FLUSH_MS = 2000;
