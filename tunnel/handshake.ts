/**
 * Session handshake (ssm-session-protocol.md §8): parse the agent's HandshakeRequest, answer it, and read
 * HandshakeComplete. dbtunnel only does port forwarding, so only `SessionType: Port` succeeds.
 */
import { DecodeError, parseJsonPayload } from "./codec.ts";
import { CLIENT_VERSION } from "./version.ts";

/** ActionStatus values of a HandshakeResponse (§8.2). */
export const ActionStatus = { Success: 1, Failed: 2, Unsupported: 3 } as const;

/** Properties of a Port session (§8.1); values are strings as the document substituted them. */
export interface PortProperties {
  readonly type?: string;
  readonly host?: string;
  readonly portNumber?: string;
  readonly localPortNumber?: string;
  readonly localConnectionType?: string;
  readonly localUnixSocket?: string;
}

export interface RequestedAction {
  readonly actionType: string;
  readonly parameters: Record<string, unknown>;
}

export interface HandshakeRequest {
  readonly agentVersion: string;
  readonly actions: readonly RequestedAction[];
}

export interface ProcessedAction {
  readonly ActionType: string;
  readonly ActionStatus: number;
  readonly ActionResult: null;
  readonly Error: string;
}

export interface HandshakeAnswer {
  /** Exact HandshakeResponse payload bytes (TV-5 layout). */
  readonly payload: Uint8Array;
  /** The SessionType the agent asked for, if any. */
  readonly sessionType: string | undefined;
  readonly properties: PortProperties;
  /** Why the handshake cannot lead to a port session; empty when it can. */
  readonly errors: readonly string[];
}

const utf8 = new TextEncoder();

/** Parses a HandshakeRequest payload; throws DecodeError for anything that is not one. */
export function parseHandshakeRequest(payload: Uint8Array): HandshakeRequest {
  const value = parseJsonPayload(payload);
  const agentVersion = typeof value.AgentVersion === "string" ? value.AgentVersion : "";
  const raw = value.RequestedClientActions;
  if (raw !== undefined && raw !== null && !Array.isArray(raw)) {
    throw new DecodeError("RequestedClientActions is not a list");
  }
  const actions: RequestedAction[] = [];
  for (const item of raw ?? []) {
    const entry = isObject(item) ? item : {};
    actions.push({
      actionType: typeof entry.ActionType === "string" ? entry.ActionType : "",
      parameters: isObject(entry.ActionParameters) ? entry.ActionParameters : {},
    });
  }
  return { agentVersion, actions };
}

/**
 * Builds the HandshakeResponse: one processed action per requested action, same order. SessionType Port
 * succeeds; other session types fail (the agent then cancels the session, which is what we want);
 * KMSEncryption (never offered for Port) and unknown actions are Unsupported (status 3, not the
 * plugin's 0, §12.6).
 */
export function answerHandshake(request: HandshakeRequest, clientVersion = CLIENT_VERSION): HandshakeAnswer {
  let sessionType: string | undefined;
  let properties: PortProperties = {};
  const errors: string[] = [];
  const processed: ProcessedAction[] = request.actions.map((action) => {
    if (action.actionType === "SessionType") {
      sessionType = typeof action.parameters.SessionType === "string" ? action.parameters.SessionType : "";
      properties = toPortProperties(action.parameters.Properties);
      if (sessionType === "Port") return processedAction(action.actionType, ActionStatus.Success, "");
      const error = `session type ${JSON.stringify(sessionType)} is not supported: dbtunnel handles port forwarding only`;
      errors.push(error);
      return processedAction(action.actionType, ActionStatus.Failed, error);
    }
    if (action.actionType === "KMSEncryption") {
      return processedAction(
        action.actionType,
        ActionStatus.Unsupported,
        "KMS encryption is not supported for port forwarding",
      );
    }
    return processedAction(action.actionType, ActionStatus.Unsupported, "");
  });
  if (sessionType === undefined) errors.push("the agent's handshake did not say which session type to run");
  const body = { ClientVersion: clientVersion, ProcessedClientActions: processed, Errors: null };
  return { payload: utf8.encode(JSON.stringify(body)), sessionType, properties, errors };
}

export interface HandshakeComplete {
  readonly handshakeTimeToCompleteNs: number;
  readonly customerMessage: string;
}

export function parseHandshakeComplete(payload: Uint8Array): HandshakeComplete {
  const value = parseJsonPayload(payload);
  return {
    handshakeTimeToCompleteNs:
      typeof value.HandshakeTimeToComplete === "number" ? value.HandshakeTimeToComplete : 0,
    customerMessage: typeof value.CustomerMessage === "string" ? value.CustomerMessage : "",
  };
}

function processedAction(type: string, status: number, error: string): ProcessedAction {
  return { ActionType: type, ActionStatus: status, ActionResult: null, Error: error };
}

function toPortProperties(value: unknown): PortProperties {
  if (!isObject(value)) return {};
  const out: Record<string, string> = {};
  for (const key of [
    "type",
    "host",
    "portNumber",
    "localPortNumber",
    "localConnectionType",
    "localUnixSocket",
  ]) {
    const v = value[key];
    if (typeof v === "string") out[key] = v;
    else if (typeof v === "number") out[key] = String(v);
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
