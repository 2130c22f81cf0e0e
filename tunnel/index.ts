/**
 * Native Session Manager port forwarding: `openTunnel` starts a session and forwards a local port to
 * host:port through the target; `attachTunnel` does the same for a session someone else started (the
 * AWS CLI, via the session-manager-plugin entry).
 */
import type { SSMClient } from "@aws-sdk/client-ssm";
import { runSession, type SessionControl, type SessionTunnel } from "./session.ts";
import { defaultSsmClient, resumeSession, startSession, terminateSession } from "./ssm-api.ts";
import type { AttachTunnelOptions, OpenTunnelOptions, Tunnel } from "./types.ts";
import { TunnelError } from "./types.ts";

export type { DataChannelStats } from "./data-channel.ts";
export type { SessionTunnel } from "./session.ts";
export { DEFAULT_DOCUMENT, mapSsmError, validateTarget } from "./ssm-api.ts";
export type {
  AttachTunnelOptions,
  ExistingSession,
  OpenTunnelOptions,
  Tunnel,
  TunnelCloseReason,
  TunnelErrorCode,
  TunnelEvent,
} from "./types.ts";
export { TunnelError } from "./types.ts";
export { CLIENT_VERSION } from "./version.ts";

const DEFAULT_LOCAL_HOST = "127.0.0.1";

function validatePort(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 65535) {
    throw new TunnelError(
      "InvalidDocument",
      `${name} must be an integer from ${min} to 65535, got ${JSON.stringify(value)}: fix the port number`,
    );
  }
}

function controlFor(ssm: SSMClient): SessionControl {
  return {
    resume: (sessionId) => resumeSession(ssm, sessionId),
    terminate: (sessionId) => terminateSession(ssm, sessionId),
  };
}

/**
 * Runs `open` with the caller's SSM client, or with one of our own that is destroyed once the tunnel
 * closes (or fails to open), so no HTTP agent outlives the tunnel.
 */
async function withSsmClient<T extends Tunnel>(
  given: SSMClient | undefined,
  open: (ssm: SSMClient) => Promise<T>,
): Promise<T> {
  const ssm = given ?? defaultSsmClient();
  try {
    const tunnel = await open(ssm);
    if (!given) void tunnel.closed.then(() => ssm.destroy());
    return tunnel;
  } catch (error) {
    if (!given) ssm.destroy();
    throw error;
  }
}

/** The options both entry points pass through to the session unchanged. */
function passThrough(options: OpenTunnelOptions | AttachTunnelOptions) {
  return {
    localHost: options.localHost ?? DEFAULT_LOCAL_HOST,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  };
}

/** Starts a port-forwarding session and resolves once the local port listens. */
export async function openTunnel(options: OpenTunnelOptions): Promise<SessionTunnel> {
  return start(options, true);
}

/** Options of `openSession`: a session without a local listener of its own. */
export type OpenSessionOptions = Omit<OpenTunnelOptions, "localPort" | "localHost">;

/**
 * Starts a port-forwarding session WITHOUT a local listener: local connections are handed to it with
 * `adopt(socket)` (what `openTunnelPool` does). Resolves once the handshake is complete.
 */
export async function openSession(options: OpenSessionOptions): Promise<SessionTunnel> {
  return start(options, false);
}

async function start(options: OpenTunnelOptions, listen: boolean): Promise<SessionTunnel> {
  validatePort("port", options.port, 1);
  const localPort = options.localPort ?? 0;
  validatePort("localPort", localPort, 0);
  if (!options.host) throw new TunnelError("InvalidDocument", "host is empty: pass the database endpoint");
  if (options.signal?.aborted) throw new TunnelError("Aborted", "opening the tunnel was cancelled");
  return withSsmClient<SessionTunnel>(options.ssm, async (ssm) => {
    const session = await startSession(ssm, {
      target: options.target,
      host: options.host,
      port: options.port,
      localPort,
      ...(options.documentName ? { documentName: options.documentName } : {}),
      ...(options.reason ? { reason: options.reason } : {}),
    });
    return runSession({
      session,
      control: controlFor(ssm),
      remoteHost: options.host,
      remotePort: options.port,
      localPort,
      listen,
      ...passThrough(options),
    });
  });
}

/** Forwards a local port through a session that was already started (StartSession done elsewhere). */
export async function attachTunnel(options: AttachTunnelOptions): Promise<Tunnel> {
  const localPort = options.localPort ?? 0;
  validatePort("localPort", localPort, 0);
  return withSsmClient(options.ssm, (ssm) =>
    runSession({
      session: options.session,
      control: controlFor(ssm),
      ...(options.host ? { remoteHost: options.host } : {}),
      ...(options.port ? { remotePort: options.port } : {}),
      localPort,
      ...passThrough(options),
    }),
  );
}
