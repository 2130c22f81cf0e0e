/**
 * The sandbox's single AWS endpoint (AWS_ENDPOINT_URL): answers the Session Manager operations itself,
 * runs the MGS + agent emulator on its WebSocket, checks credentials like AWS, and proxies every other
 * call to moto. See ssm-session-protocol.md §13 and sandbox/gateway/types.ts.
 */
import type { Server, ServerWebSocket } from "bun";
import { isRecord } from "../../contract/values.ts";
import { systemClock } from "../../tunnel/clock.ts";
import type { AgentSession, AgentTimings } from "../agent/agent-session.ts";
import { ApiError, awsError, detectProtocol, jsonOk } from "./aws-errors.ts";
import { type Caller, type CallerRejection, classifyCaller, readIdentity } from "./caller.ts";
import { handleControl } from "./control.ts";
import { EcsCorrections } from "./ecs-corrections.ts";
import { MotoIdentities } from "./iam-identity.ts";
import { proxyToMoto } from "./proxy.ts";
import {
  describeInstanceInformation,
  resumeSession,
  type SessionApiContext,
  startSession,
  terminateSession,
} from "./session-api.ts";
import { MotoDocuments } from "./session-documents.ts";
import { MotoTargets } from "./targets.ts";
import type { FaultPlan, Gateway, GatewayOptions, SessionStats } from "./types.ts";

export type { FaultPlan, Gateway, GatewayOptions, SessionStats } from "./types.ts";

/** Internal knobs for tests of the emulator itself (not part of the sandbox contract). */
export interface GatewayTestOptions {
  readonly timings?: AgentTimings;
}

interface SocketData {
  readonly sessionId: string;
  session: AgentSession | undefined;
  firstFrameTimer: ReturnType<typeof setTimeout> | undefined;
}

const DATA_CHANNEL_PATH = /^\/v1\/data-channel\/([^/?]+)$/;
/** A client that opens the WebSocket but never sends OpenDataChannelInput is cut off after this. */
const FIRST_FRAME_TIMEOUT_MS = 30_000;

export async function startGateway(
  opts: GatewayOptions,
  testOptions: GatewayTestOptions = {},
): Promise<Gateway> {
  const sessions = new Map<string, AgentSession>();
  let defaultFaults: FaultPlan = opts.defaultFaults ?? {};
  const log = opts.log ?? (() => {});
  const ecsCorrections = new EcsCorrections(opts.motoUrl, opts.region, opts.credentials, log);
  const targets = new MotoTargets(opts.motoUrl, opts.region, opts.credentials, ecsCorrections.exec);
  const identities = new MotoIdentities(opts.motoUrl, opts.region, opts.credentials);
  const documents = new MotoDocuments(opts.motoUrl, opts.region, opts.credentials);
  await targets
    .keepEcsTasksRunning(opts.motoUrl)
    .catch((error: Error) =>
      log(`cannot pin ECS task states in moto (ECS targets may look stopped): ${error.message}`),
    );
  // Filled in once the server has its port.
  let api: SessionApiContext | undefined;

  const ssmOperations: Record<string, (body: Record<string, unknown>, caller: Caller) => unknown> = {
    "AmazonSSM.StartSession": (body, caller) => startSession(api as SessionApiContext, body, caller),
    "AmazonSSM.ResumeSession": (body, caller) => resumeSession(api as SessionApiContext, body, caller),
    "AmazonSSM.TerminateSession": (body, caller) => terminateSession(api as SessionApiContext, body, caller),
    "AmazonSSM.DescribeInstanceInformation": (body) =>
      describeInstanceInformation(api as SessionApiContext, body),
  };

  const setFaults = (plan: FaultPlan, sessionId?: string): void => {
    if (sessionId === undefined) {
      defaultFaults = plan;
      return;
    }
    const session = sessions.get(sessionId);
    if (!session) throw new Error(`no session ${sessionId}: see activeSessions()`);
    session.setFaults(plan);
  };
  const sessionStats = (): SessionStats[] => [...sessions.values()].map((s) => s.snapshot());

  async function handleAws(req: Request, url: URL): Promise<Response> {
    const identity = readIdentity(req, url);
    const protocol = detectProtocol(req, identity.service);
    let caller: Caller | CallerRejection = classifyCaller(
      identity,
      protocol,
      opts.credentials,
      opts.restrictedCredentials,
    );
    if (typeof caller !== "string" && "unknownKey" in caller && caller.unknownKey && identity.accessKeyId) {
      // Not the sandbox's key: an IAM user's or assumed role's key that moto issued is a principal.
      const principal = await identities.principal(identity.accessKeyId);
      if (principal) caller = { principal };
    }
    if (typeof caller !== "string" && "code" in caller)
      return awsError(protocol, caller.status, caller.code, caller.message);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
    const operation = ssmOperations[req.headers.get("x-amz-target") ?? ""];
    if (!operation) return proxyCorrected(req, url, body, identity.service ?? "");
    try {
      let input: unknown = {};
      if (body && body.byteLength > 0) input = JSON.parse(new TextDecoder().decode(body));
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw new ApiError("SerializationException", "The request body must be a JSON object.");
      }
      return jsonOk(await operation(input as Record<string, unknown>, caller));
    } catch (error) {
      if (error instanceof ApiError) return awsError("json", error.status, error.code, error.message);
      if (error instanceof SyntaxError)
        return awsError("json", 400, "SerializationException", "The request body is not valid JSON.");
      log(`internal error: ${(error as Error).message}`);
      return awsError("json", 500, "InternalServerError", (error as Error).message);
    }
  }

  /** To moto, with the ECS corrections (ecs-corrections.ts) around moto-compat.ts's. */
  async function proxyCorrected(
    req: Request,
    url: URL,
    body: ArrayBuffer | undefined,
    service: string,
  ): Promise<Response> {
    const amzTarget = req.headers.get("x-amz-target");
    // Only ECS / tagging bodies are read (an S3 upload is never decoded here).
    const request = ecsCorrections.concerns(amzTarget) ? jsonObject(body) : {};
    const rewrite = ecsCorrections.rewriteFor(amzTarget, request);
    const answer = await ecsCorrections.forward(amzTarget, request, () =>
      proxyToMoto(req, url, opts.motoUrl, body, service),
    );
    if (!rewrite || !answer.ok) return answer;
    const headers = new Headers(answer.headers);
    headers.delete("content-length");
    return new Response(await rewrite(await answer.text()), {
      status: answer.status,
      statusText: answer.statusText,
      headers,
    });
  }

  const server: Server<SocketData> = Bun.serve<SocketData>({
    hostname: "127.0.0.1",
    port: opts.port ?? 0,
    async fetch(req, srv) {
      const url = new URL(req.url);
      const channel = DATA_CHANNEL_PATH.exec(url.pathname);
      if (channel) {
        const sessionId = safeDecode(channel[1] ?? "");
        if (sessionId === undefined || !sessions.has(sessionId))
          return new Response(`unknown session ${sessionId}\n`, { status: 404 });
        const data: SocketData = { sessionId, session: undefined, firstFrameTimer: undefined };
        if (srv.upgrade(req, { data })) return undefined;
        return new Response("WebSocket upgrade required\n", { status: 426 });
      }
      if (url.pathname.startsWith("/_dbtunnel/")) {
        return handleControl(req, url, { setFaults, sessionStats, hasSession: (id) => sessions.has(id) });
      }
      try {
        return await handleAws(req, url);
      } catch (error) {
        // moto unreachable or similar: a 502 the SDK reports, instead of a dropped connection.
        log(`gateway error: ${(error as Error).message}`);
        return new Response(`sandbox gateway: ${(error as Error).message}\n`, { status: 502 });
      }
    },
    websocket: {
      perMessageDeflate: false,
      // Large frames are legal (payloads ≤ 1024 B in practice, but do not be the one that breaks).
      maxPayloadLength: 16 * 1024 * 1024,
      idleTimeout: 0,
      // A real agent's WebSocket write blocks on TCP; Bun's send() instead DROPS a frame once 16 MB are
      // buffered (its default backpressureLimit), and the agent resends only its oldest unacked message
      // per 100 ms tick: an unpaced bulk download then crawled for minutes. Queue, never drop.
      backpressureLimit: 1024 * 1024 * 1024,
      closeOnBackpressureLimit: false,
      open(ws: ServerWebSocket<SocketData>) {
        ws.data.firstFrameTimer = setTimeout(
          () => ws.close(1008, "no OpenDataChannelInput"),
          FIRST_FRAME_TIMEOUT_MS,
        );
      },
      message(ws: ServerWebSocket<SocketData>, message: string | Buffer) {
        const attached = ws.data.session;
        if (attached) {
          if (typeof message !== "string") attached.receive(ws, message);
          return;
        }
        clearTimeout(ws.data.firstFrameTimer);
        const session = sessions.get(ws.data.sessionId);
        const token = typeof message === "string" ? readToken(message) : undefined;
        // MGS closes the socket on a missing or stale token (§4.2, inferred).
        if (!session || session.terminated || token === undefined || token !== session.token) {
          ws.close(1008, "invalid OpenDataChannelInput or token");
          return;
        }
        ws.data.session = session;
        session.attach(ws);
      },
      close(ws: ServerWebSocket<SocketData>) {
        clearTimeout(ws.data.firstFrameTimer);
        ws.data.session?.detach(ws);
      },
    },
  });

  const port = server.port ?? 0;
  const url = `http://127.0.0.1:${port}`;
  api = {
    region: opts.region,
    accountId: opts.accountId ?? "123456789012",
    callerId: opts.callerId ?? "dbtunnel-sandbox",
    targets,
    identities,
    documents,
    sessions,
    owners: new Map(),
    resolveDestination: opts.resolveDestination,
    defaultFaults: () => defaultFaults,
    verifyDigests: opts.verifyClientDigests !== false,
    ...(testOptions.timings ? { timings: testOptions.timings } : {}),
    ...(opts.lookupHost ? { lookupHost: opts.lookupHost } : {}),
    ...(opts.vpcCidrs ? { vpcCidrs: opts.vpcCidrs } : {}),
    wsBase: `ws://127.0.0.1:${port}`,
    log,
  };

  // The service, not the agent, ends idle and over-age sessions (port_mux.go's comment on keepalive).
  const clock = testOptions.timings?.clock ?? systemClock;
  const idleTimeoutMs = opts.idleSessionTimeoutMs ?? 20 * 60_000;
  const maxDurationMs = opts.maxSessionDurationMs;
  const sweepMs = Math.min(30_000, Math.max(50, Math.min(idleTimeoutMs, maxDurationMs ?? idleTimeoutMs) / 4));
  const stopSweeper = clock.every(
    sweepMs,
    () => {
      const now = clock.now();
      for (const session of sessions.values()) {
        if (session.terminated) continue;
        if (maxDurationMs !== undefined && session.age(now) >= maxDurationMs) {
          session.terminate(
            "maximum session duration",
            `Session ${session.id} reached the maximum session duration and was terminated.`,
          );
        } else if (session.idleFor(now) >= idleTimeoutMs) {
          session.terminate(
            "idle timeout",
            `Session ${session.id} timed out due to inactivity and has been terminated.`,
          );
        }
      }
    },
    { unref: true },
  );

  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    setFaults,
    activeSessions: () => [...sessions.values()].filter((s) => !s.terminated).map((s) => s.id),
    sessions: sessionStats,
    sessionStats: (id) => sessions.get(id)?.snapshot(),
    stop() {
      stopped ??= (async () => {
        stopSweeper();
        for (const session of sessions.values()) session.terminate("gateway stopped");
        await server.stop(true);
        targets.close();
        ecsCorrections.close();
        identities.close();
        documents.close();
      })();
      return stopped;
    },
  };
}

/** TokenValue of an OpenDataChannelInput text frame, or undefined for anything else. */
function readToken(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (
      typeof value === "object" &&
      value !== null &&
      typeof (value as Record<string, unknown>).TokenValue === "string"
    ) {
      return (value as Record<string, string>).TokenValue;
    }
  } catch {
    // not JSON
  }
  return undefined;
}

/** A JSON-protocol request body as an object; {} for anything else (query protocols, empty bodies). */
function jsonObject(body: ArrayBuffer | undefined): Record<string, unknown> {
  if (!body || body.byteLength === 0) return {};
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(body));
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

/** decodeURIComponent that answers undefined for malformed escapes instead of throwing. */
function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
