/**
 * Handshake payloads of the agent side (ssm-session-protocol.md §8): the agent asks for the Port session
 * type with the document's properties, the client answers with its version and action results, the
 * agent confirms with HandshakeComplete.
 */
import { type DecodeError, parseJsonPayload } from "../../tunnel/codec.ts";

/** Properties of the Port session type, as the port-forwarding documents map their parameters (strings). */
export interface PortProperties {
  readonly type: "LocalPortForwarding";
  readonly portNumber: string;
  readonly localPortNumber: string;
  /** Only for AWS-StartPortForwardingSessionToRemoteHost. */
  readonly host?: string;
}

const utf8 = new TextEncoder();

export function encodeHandshakeRequest(agentVersion: string, properties: PortProperties): Uint8Array {
  return utf8.encode(
    JSON.stringify({
      AgentVersion: agentVersion,
      RequestedClientActions: [
        { ActionType: "SessionType", ActionParameters: { SessionType: "Port", Properties: properties } },
      ],
    }),
  );
}

export interface HandshakeResult {
  readonly clientVersion: string;
  /** undefined when every requested action succeeded. */
  readonly failure?: string;
}

/**
 * Reads a HandshakeResponse; a SessionType action with status ≠ 1 is a failure. A response without a
 * SessionType action is accepted, as datachannel.go does (it only inspects the actions present).
 */
export function parseHandshakeResponse(payload: Uint8Array): HandshakeResult {
  let value: Record<string, unknown>;
  try {
    value = parseJsonPayload(payload);
  } catch (error) {
    return { clientVersion: "", failure: `HandshakeResponse is not JSON: ${(error as DecodeError).message}` };
  }
  const clientVersion = typeof value.ClientVersion === "string" ? value.ClientVersion : "";
  const actions = Array.isArray(value.ProcessedClientActions) ? value.ProcessedClientActions : [];
  const sessionType = actions.find(
    (a): a is Record<string, unknown> =>
      typeof a === "object" && a !== null && a.ActionType === "SessionType",
  );
  if (!sessionType) return { clientVersion };
  if (sessionType.ActionStatus !== 1) {
    const error = typeof sessionType.Error === "string" && sessionType.Error ? `: ${sessionType.Error}` : "";
    return {
      clientVersion,
      failure: `client failed the SessionType action (status ${String(sessionType.ActionStatus)})${error}`,
    };
  }
  return { clientVersion };
}

export function encodeHandshakeComplete(elapsedMs: number, customerMessage = ""): Uint8Array {
  return utf8.encode(
    JSON.stringify({
      // Go's time.Duration marshals as integer nanoseconds.
      HandshakeTimeToComplete: Math.round(elapsedMs * 1_000_000),
      CustomerMessage: customerMessage,
    }),
  );
}
