/**
 * The Session Manager operations the gateway answers itself (ssm-session-protocol.md §2): StartSession,
 * ResumeSession, TerminateSession, and DescribeInstanceInformation for the jump host's online status.
 */
import { randomBytes } from "node:crypto";
import { AgentSession, type AgentTimings } from "../agent/agent-session.ts";
import type { PortProperties } from "../agent/handshake.ts";
import { ApiError } from "./aws-errors.ts";
import type { Caller } from "./caller.ts";
import { type MotoTargets, parseTarget, targetArn } from "./targets.ts";
import type { DestinationResolver, FaultPlan } from "./types.ts";

export const PORT_DOCUMENTS = [
  "AWS-StartPortForwardingSessionToRemoteHost",
  "AWS-StartPortForwardingSession",
] as const;

export interface SessionApiContext {
  readonly region: string;
  readonly accountId: string;
  readonly callerId: string;
  readonly targets: MotoTargets;
  readonly sessions: Map<string, AgentSession>;
  readonly resolveDestination: DestinationResolver;
  readonly defaultFaults: () => FaultPlan;
  readonly verifyDigests: boolean;
  readonly timings?: AgentTimings;
  /** ws://127.0.0.1:<port> */
  readonly wsBase: string;
  readonly log: (line: string) => void;
}

type Json = Record<string, unknown>;

function newToken(): string {
  // Opaque and long like the real ones; only ever compared for equality.
  return randomBytes(96).toString("base64");
}

function streamUrl(ctx: SessionApiContext, sessionId: string): string {
  return `${ctx.wsBase}/v1/data-channel/${sessionId}?role=publish_subscribe`;
}

function requireString(body: Json, field: string): string {
  const value = body[field];
  if (typeof value !== "string" || value.length === 0) {
    throw new ApiError(
      "ValidationException",
      `1 validation error detected: Value at '${field.charAt(0).toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/** One string value of a document parameter (values are arrays of strings), or the document default. */
function parameter(params: Json, name: string, fallback?: string): string | undefined {
  const value = params[name];
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.length !== 1 || typeof value[0] !== "string") {
    throw new ApiError(
      "ValidationException",
      `Parameter ${name} must be a list with exactly one string value.`,
    );
  }
  return value[0];
}

function portParameter(params: Json, name: string, fallback: string, min: number): string {
  const value = parameter(params, name, fallback) ?? fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > 65535) {
    throw new ApiError(
      "ValidationException",
      `Parameter ${name} value "${value}" is not a port number (${min}-65535).`,
    );
  }
  return value;
}

/** Validates document name and parameters into the Port session's handshake properties. */
export function portProperties(body: Json): PortProperties {
  const document = body.DocumentName;
  if (document === undefined) {
    // AWS would start a shell session (SSM-SessionManagerRunShell); the sandbox only forwards ports.
    throw new ApiError(
      "InvalidDocument",
      `The sandbox supports only port forwarding: set DocumentName to ${PORT_DOCUMENTS.join(" or ")}.`,
    );
  }
  if (typeof document !== "string" || !(PORT_DOCUMENTS as readonly string[]).includes(document)) {
    throw new ApiError("InvalidDocument", `Document ${String(document)} does not exist.`);
  }
  const raw = body.Parameters ?? {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ApiError(
      "ValidationException",
      "Parameters must be a map of parameter name to a list of strings.",
    );
  }
  const params = raw as Json;
  const remoteHost = document === "AWS-StartPortForwardingSessionToRemoteHost";
  const allowed = remoteHost ? ["host", "portNumber", "localPortNumber"] : ["portNumber", "localPortNumber"];
  for (const name of Object.keys(params)) {
    if (!allowed.includes(name)) {
      throw new ApiError(
        "ValidationException",
        `Parameter ${name} is not defined by document ${document} (allowed: ${allowed.join(", ")}).`,
      );
    }
  }
  // Defaults of the AWS documents: portNumber "80", localPortNumber "0".
  const portNumber = portParameter(params, "portNumber", "80", 1);
  const localPortNumber = portParameter(params, "localPortNumber", "0", 0);
  if (!remoteHost) return { type: "LocalPortForwarding", portNumber, localPortNumber };
  const host = parameter(params, "host");
  if (!host) throw new ApiError("ValidationException", `Parameter host is required by document ${document}.`);
  return { type: "LocalPortForwarding", host, portNumber, localPortNumber };
}

export async function startSession(ctx: SessionApiContext, body: Json, caller: Caller): Promise<Json> {
  const rawTarget = requireString(body, "Target");
  const target = parseTarget(rawTarget);
  if (caller === "restricted") {
    // IAM is evaluated before anything else, like AWS does.
    throw new ApiError(
      "AccessDeniedException",
      `User: arn:aws:sts::${ctx.accountId}:assumed-role/dbtunnel-restricted/dbtunnel-restricted-session is not authorized to perform: ssm:StartSession on resource: ${targetArn(target, ctx.region, ctx.accountId)} because no identity-based policy allows the ssm:StartSession action`,
    );
  }
  const properties = portProperties(body);
  await ctx.targets.requireConnected(target, rawTarget);
  const sessionId = `${ctx.callerId}-${randomBytes(9).toString("hex").slice(0, 17)}`;
  const token = newToken();
  const session = new AgentSession({
    sessionId,
    target: rawTarget,
    token,
    properties,
    faults: ctx.defaultFaults(),
    resolveDestination: ctx.resolveDestination,
    verifyDigests: ctx.verifyDigests,
    ...(ctx.timings ? { timings: ctx.timings } : {}),
    log: ctx.log,
  });
  ctx.sessions.set(sessionId, session);
  return { SessionId: sessionId, TokenValue: token, StreamUrl: streamUrl(ctx, sessionId) };
}

export function resumeSession(ctx: SessionApiContext, body: Json): Json {
  const sessionId = requireString(body, "SessionId");
  const session = ctx.sessions.get(sessionId);
  if (!session || session.terminated) {
    throw new ApiError(
      "DoesNotExistException",
      `Session ${sessionId} does not exist or has been terminated.`,
    );
  }
  if (session.faults.resumeWithoutToken) {
    // The "session timed out" answer: no token, so the client must give up (§9.1).
    session.token = undefined;
    return { SessionId: sessionId, StreamUrl: streamUrl(ctx, sessionId) };
  }
  session.token = newToken();
  return { SessionId: sessionId, TokenValue: session.token, StreamUrl: streamUrl(ctx, sessionId) };
}

export function terminateSession(ctx: SessionApiContext, body: Json): Json {
  const sessionId = requireString(body, "SessionId");
  // Idempotent like AWS: terminating an ended or unknown session succeeds.
  ctx.sessions.get(sessionId)?.terminate("TerminateSession API");
  return { SessionId: sessionId };
}

interface InstanceFilter {
  readonly key: string;
  readonly values: readonly string[];
}

function readFilters(body: Json): InstanceFilter[] {
  const out: InstanceFilter[] = [];
  for (const f of Array.isArray(body.InstanceInformationFilterList)
    ? body.InstanceInformationFilterList
    : []) {
    const filter = f as Json;
    out.push({
      key: String(filter.key),
      values: Array.isArray(filter.valueSet) ? filter.valueSet.map(String) : [],
    });
  }
  for (const f of Array.isArray(body.Filters) ? body.Filters : []) {
    const filter = f as Json;
    out.push({
      key: String(filter.Key),
      values: Array.isArray(filter.Values) ? filter.Values.map(String) : [],
    });
  }
  return out;
}

/** Running instances in moto are "Online" (their agent is connected), every other state "ConnectionLost". */
export async function describeInstanceInformation(ctx: SessionApiContext, body: Json): Promise<Json> {
  const filters = readFilters(body);
  const now = Date.now() / 1000;
  const list: Json[] = [];
  for (const instance of await ctx.targets.instances()) {
    const id = instance.InstanceId ?? "";
    const pingStatus = instance.State?.Name === "running" ? "Online" : "ConnectionLost";
    const fields: Record<string, string> = {
      InstanceIds: id,
      PingStatus: pingStatus,
      ResourceType: "EC2Instance",
      PlatformTypes: "Linux",
    };
    if (!filters.every((f) => f.values.includes(fields[f.key] ?? ""))) continue;
    list.push({
      InstanceId: id,
      PingStatus: pingStatus,
      LastPingDateTime: now,
      AgentVersion: "3.3.987.0",
      IsLatestVersion: true,
      PlatformType: "Linux",
      PlatformName: "Amazon Linux",
      PlatformVersion: "2023",
      ResourceType: "EC2Instance",
      IPAddress: instance.PrivateIpAddress ?? "",
      ComputerName: instance.PrivateDnsName ?? id,
      AssociationStatus: "Success",
    });
  }
  return { InstanceInformationList: list };
}
