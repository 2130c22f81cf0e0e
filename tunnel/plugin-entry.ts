/**
 * A `session-manager-plugin` drop-in for port forwarding (ssm-session-protocol.md §3, §10.2): the AWS CLI
 * does StartSession and runs us with the response, so `aws ssm start-session --document-name
 * AWS-StartPortForwardingSessionToRemoteHost ...` works without Amazon's plugin. Shell sessions are out
 * of scope and refused with one line. Console lines match the reference plugin because scripts parse them.
 */
import { SSMClient } from "@aws-sdk/client-ssm";
import { attachTunnel } from "./index.ts";
import { terminateSession } from "./ssm-api.ts";
import type { ExistingSession, Tunnel, TunnelCloseReason, TunnelEvent } from "./types.ts";
import { TunnelError } from "./types.ts";
import { CLIENT_VERSION } from "./version.ts";

const ENV_RESPONSE = "AWS_SSM_START_SESSION_RESPONSE";

export interface PluginIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: Record<string, string | undefined>;
  /** Resolves when the user asks to stop (SIGINT/SIGTERM). */
  readonly interrupted: Promise<void>;
}

/** Parsed 4/5/6-argument form. */
export interface PluginRequest {
  readonly session: ExistingSession;
  readonly region: string;
  readonly profile: string | undefined;
  readonly target: string | undefined;
  readonly documentName: string | undefined;
  readonly parameters: Record<string, unknown>;
  readonly endpoint: string | undefined;
}

export class PluginUsageError extends Error {}

/** Parses argv (without the executable and script) the way the reference plugin does. */
export function parsePluginArgs(
  args: readonly string[],
  env: Record<string, string | undefined>,
): PluginRequest {
  const [responseArg = "", region = "", operation = "", profile, requestJson, endpoint] = args;
  if (operation !== "StartSession") {
    throw new PluginUsageError(
      `Invalid Operation ${JSON.stringify(operation)}: only StartSession is supported`,
    );
  }
  let responseText = responseArg;
  if (responseArg.startsWith(ENV_RESPONSE)) {
    responseText = env[ENV_RESPONSE] ?? "";
    // The response holds the session token: do not leave it in our environment for child processes.
    delete env[ENV_RESPONSE];
  }
  const response = parseObject(responseText, "the StartSession response");
  const session = {
    SessionId: stringField(response, "SessionId"),
    StreamUrl: stringField(response, "StreamUrl"),
    TokenValue: stringField(response, "TokenValue"),
  };
  if (!session.SessionId || !session.StreamUrl || !session.TokenValue) {
    throw new PluginUsageError("the StartSession response lacks SessionId, StreamUrl or TokenValue");
  }
  const request = requestJson ? parseObject(requestJson, "the StartSession request parameters") : {};
  const parameters =
    typeof request.Parameters === "object" && request.Parameters !== null
      ? (request.Parameters as Record<string, unknown>)
      : {};
  return {
    session,
    region,
    profile: profile || undefined,
    target: typeof request.Target === "string" ? request.Target : undefined,
    documentName: typeof request.DocumentName === "string" ? request.DocumentName : undefined,
    parameters,
    endpoint: endpoint || undefined,
  };
}

/** Port-forwarding documents carry a portNumber parameter; shell documents (or none: the default shell) do not. */
export function isPortForwarding(request: PluginRequest): boolean {
  if (!request.documentName) return false;
  return /PortForwarding/i.test(request.documentName) || "portNumber" in request.parameters;
}

/** Runs the plugin; returns the exit code. */
export async function runPlugin(args: readonly string[], io: PluginIo): Promise<number> {
  if (args.length === 0) {
    io.out(
      "\nThe Session Manager plugin was installed successfully. Use the AWS CLI to start a session.\n\n",
    );
    return 0;
  }
  if (args.length === 1 && args[0] === "--version") {
    io.out(`${CLIENT_VERSION}\n`);
    return 0;
  }
  if (args.length < 4) {
    io.err(
      "Unknown operation: this is dbtunnel's session-manager-plugin; run it through `aws ssm start-session`.\n",
    );
    return 1;
  }
  let request: PluginRequest;
  try {
    request = parsePluginArgs(args, io.env);
  } catch (error) {
    io.err(`session-manager-plugin: ${(error as Error).message}\n`);
    return 1;
  }
  const ssm = new SSMClient({
    ...(request.region ? { region: request.region } : {}),
    ...(request.endpoint ? { endpoint: request.endpoint } : {}),
    ...(request.profile ? { profile: request.profile } : {}),
    maxAttempts: 3,
  });
  try {
    if (!isPortForwarding(request)) {
      // The CLI already started the session: end it rather than leaving it open until it times out.
      await terminateSession(ssm, request.session.SessionId).catch(() => {});
      io.err(
        `not supported: dbtunnel's plugin handles port forwarding only (document ${request.documentName ?? "SSM-SessionManagerRunShell"}); use a port-forwarding document or Amazon's session-manager-plugin\n`,
      );
      return 1;
    }
    return await forward(request, ssm, io);
  } finally {
    ssm.destroy();
  }
}

async function forward(request: PluginRequest, ssm: SSMClient, io: PluginIo): Promise<number> {
  const sessionId = request.session.SessionId;
  io.out(`\nStarting session with SessionId: ${sessionId}\n`);
  let mode: "mux" | "basic" = "mux";
  let accepted = false;
  const onEvent = (event: TunnelEvent) => {
    if (event.type === "handshake-complete") mode = event.mode;
    if (event.type === "listening") {
      io.out(
        mode === "mux"
          ? `Port ${event.port} opened for sessionId ${sessionId}.\nWaiting for connections...\n`
          : `Port ${event.port} opened for sessionId ${sessionId}.\n`,
      );
    }
    if (event.type === "connection-opened" && (mode === "basic" || !accepted)) {
      accepted = true;
      io.out(
        mode === "mux"
          ? `\nConnection accepted for session [${sessionId}]\n`
          : `Connection accepted for session ${sessionId}.\n`,
      );
    }
    if (event.type === "connection-failed") io.err(`\n${event.message}\n`);
  };
  const hostValue = firstValue(request.parameters.host);
  const host = typeof hostValue === "string" ? hostValue : undefined;
  const localPort = Number(firstValue(request.parameters.localPortNumber) ?? 0);
  let tunnel: Tunnel;
  try {
    tunnel = await attachTunnel({
      session: request.session,
      ssm,
      onEvent,
      ...(host ? { host } : {}),
      ...(Number.isInteger(localPort) && localPort >= 0 && localPort <= 65535 ? { localPort } : {}),
    });
  } catch (error) {
    const message = error instanceof TunnelError ? error.message : (error as Error).message;
    io.err(`session-manager-plugin: ${message}\n`);
    return 1;
  }
  const reason = await Promise.race([
    tunnel.closed,
    io.interrupted.then(async (): Promise<TunnelCloseReason> => {
      await tunnel.close();
      return { kind: "local" };
    }),
  ]);
  io.out(exitLine(sessionId, reason));
  return reason.kind === "error" ? 1 : 0;
}

function exitLine(sessionId: string, reason: TunnelCloseReason): string {
  switch (reason.kind) {
    case "local":
      return `\n\nExiting session with sessionId: ${sessionId}.\n\n`;
    case "channel-closed":
      return reason.message
        ? `\n\nSessionId: ${sessionId} : ${reason.message}\n\n`
        : `\n\nExiting session with sessionId: ${sessionId}.\n\n`;
    case "timed-out":
      return `\n\nSessionId: ${sessionId} : session timed out (${reason.message})\n\n`;
    case "error":
      return `\n\nSessionId: ${sessionId} : ${reason.message}\n\n`;
  }
}

function firstValue(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

function parseObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PluginUsageError(`${what} is not valid JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PluginUsageError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function stringField(object: Record<string, unknown>, key: string): string {
  const value = object[key];
  return typeof value === "string" ? value : "";
}

/** The plugin as a process (bin/session-manager-plugin, or the dbtunnel executable under that name). */
export function pluginMain(args: readonly string[]): Promise<number> {
  const interrupted = new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM", "SIGQUIT", "SIGTSTP"] as const)
      process.on(signal, () => resolve());
  });
  return runPlugin(args, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    interrupted,
  });
}

if (import.meta.main) process.exit(await pluginMain(process.argv.slice(2)));
