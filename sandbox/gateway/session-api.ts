/**
 * The Session Manager operations the gateway answers itself (ssm-session-protocol.md §2): StartSession,
 * ResumeSession, TerminateSession, and DescribeInstanceInformation for the jump host's online status.
 */
import { randomBytes } from "node:crypto";
import { AgentSession, type AgentTimings } from "../agent/agent-session.ts";
import { ApiError } from "./aws-errors.ts";
import type { Caller } from "./caller.ts";
import {
  type AuthorizerContext,
  authorizeSessionCall,
  authorizeStartSession,
  type SessionOwnership,
} from "./session-authorizer.ts";
import { documentArn, type MotoDocuments, renderPortProperties } from "./session-documents.ts";
import { type MotoTargets, parseTarget, targetArn } from "./targets.ts";
import type { DestinationResolver, FaultPlan } from "./types.ts";

export interface SessionApiContext extends AuthorizerContext {
  readonly callerId: string;
  readonly targets: MotoTargets;
  readonly documents: MotoDocuments;
  readonly sessions: Map<string, AgentSession>;
  /** Who started each session (the tags Session Manager puts on it), for Resume/Terminate. */
  readonly owners: Map<string, SessionOwnership>;
  readonly resolveDestination: DestinationResolver;
  readonly defaultFaults: () => FaultPlan;
  readonly verifyDigests: boolean;
  readonly timings?: AgentTimings;
  readonly lookupHost?: (host: string) => Promise<readonly string[]>;
  readonly vpcCidrs?: readonly string[];
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

/** The document a StartSession names (its name, or its ARN in this account/region). */
function documentName(body: Json): string {
  const document = body.DocumentName;
  if (document === undefined) {
    // AWS would start a shell session (SSM-SessionManagerRunShell); the sandbox only forwards ports.
    throw new ApiError(
      "InvalidDocument",
      "The sandbox supports only port forwarding: set DocumentName to a Session document of sessionType Port.",
    );
  }
  if (typeof document !== "string") throw new ApiError("InvalidDocument", "DocumentName must be a string.");
  const arn = /^arn:aws:ssm:[a-z0-9-]+:(\d{12})?:document\/(.+)$/.exec(document);
  return arn ? (arn[2] as string) : document;
}

/**
 * Session ids as Session Manager makes them: the caller's name (IAM user name, or the role session
 * name of an assumed role / IAM Identity Center user) + "-" + 17 hex digits. The sandbox's own key
 * uses `callerId`.
 */
function newSessionId(ctx: SessionApiContext, caller: Caller): string {
  const prefix = typeof caller === "string" ? ctx.callerId : caller.principal.sessionIdPrefix;
  return `${prefix}-${randomBytes(9).toString("hex").slice(0, 17)}`;
}

function callerUserId(ctx: SessionApiContext, caller: Caller): string {
  return typeof caller === "string" ? ctx.callerId : caller.principal.userId;
}

export async function startSession(ctx: SessionApiContext, body: Json, caller: Caller): Promise<Json> {
  const rawTarget = requireString(body, "Target");
  const target = parseTarget(rawTarget);
  const arn = targetArn(target, ctx.region, ctx.accountId);
  if (caller === "restricted") {
    // IAM is evaluated before anything else, like AWS does.
    throw new ApiError(
      "AccessDeniedException",
      `User: arn:aws:sts::${ctx.accountId}:assumed-role/dbtunnel-restricted/dbtunnel-restricted-session is not authorized to perform: ssm:StartSession on resource: ${arn} because no identity-based policy allows the ssm:StartSession action`,
    );
  }
  const document = await ctx.documents.find(documentName(body));
  if (typeof caller !== "string") {
    const tags = await ctx.targets.tags(target);
    await authorizeStartSession(ctx, caller, { arn, tags }, documentArn(document, ctx.region, ctx.accountId));
  }
  const properties = renderPortProperties(document, body.Parameters ?? {});
  await ctx.targets.requireConnected(target, rawTarget);
  const sessionId = newSessionId(ctx, caller);
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
    ...(ctx.lookupHost ? { lookupHost: ctx.lookupHost } : {}),
    ...(ctx.vpcCidrs ? { vpcCidrs: ctx.vpcCidrs } : {}),
    log: ctx.log,
  });
  ctx.sessions.set(sessionId, session);
  ctx.owners.set(sessionId, { ownerUserId: callerUserId(ctx, caller), target: rawTarget });
  return { SessionId: sessionId, TokenValue: token, StreamUrl: streamUrl(ctx, sessionId) };
}

export async function resumeSession(ctx: SessionApiContext, body: Json, caller: Caller): Promise<Json> {
  const sessionId = requireString(body, "SessionId");
  await authorizeSessionCall(ctx, caller, "ssm:ResumeSession", sessionId, ctx.owners.get(sessionId));
  const session = ctx.sessions.get(sessionId);
  if (!session || session.terminated) {
    throw new ApiError(
      "DoesNotExistException",
      `Session ${sessionId} does not exist or has been terminated.`,
    );
  }
  const refuseAfter = session.faults.refuseResumeAfterMs;
  if (refuseAfter !== undefined && session.age() >= refuseAfter) {
    // What users meet near 60 minutes with temporary credentials (session-manager-plugin #136).
    throw new ApiError(
      "AccessDeniedException",
      `User: ${ctx.callerId} is not authorized to perform: ssm:ResumeSession on resource: session/${sessionId}`,
      403,
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

export async function terminateSession(ctx: SessionApiContext, body: Json, caller: Caller): Promise<Json> {
  const sessionId = requireString(body, "SessionId");
  await authorizeSessionCall(ctx, caller, "ssm:TerminateSession", sessionId, ctx.owners.get(sessionId));
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
