/**
 * StartSession / ResumeSession / TerminateSession through @aws-sdk/client-ssm (ssm-session-protocol.md
 * §2), with SDK errors mapped to TunnelError codes whose one-line messages say what to do.
 */
import {
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  type StartSessionCommandOutput,
  TerminateSessionCommand,
} from "@aws-sdk/client-ssm";
import { TunnelError } from "./types.ts";

/**
 * The document for stacks that predate the pinned per-stack document (and for `--document`-less use of
 * the library): AWS-owned, host and port free. dbtunnel's stacks allow only their own Port document.
 */
export const DEFAULT_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost";
const LOCAL_ONLY_DOCUMENT = "AWS-StartPortForwardingSession";

/** What StartSession returns, and what `attachTunnel` starts from. */
export interface SessionTicket {
  readonly SessionId: string;
  readonly StreamUrl: string;
  readonly TokenValue: string;
}

export interface StartSessionInput {
  readonly target: string;
  readonly host: string;
  readonly port: number;
  readonly localPort: number;
  readonly documentName?: string;
  readonly reason?: string;
}

const INSTANCE_TARGET = /^(?:i|mi)-[0-9a-f]{8,17}$/;
const ECS_TARGET = /^ecs:[^_]+(?:_[^_]+)*_[^_]+_[^_]+$/;

/** Rejects targets that are neither an instance id nor an ECS Exec target before calling AWS. */
export function validateTarget(target: string): void {
  if (INSTANCE_TARGET.test(target) || ECS_TARGET.test(target)) return;
  throw new TunnelError(
    "InvalidTarget",
    `target ${JSON.stringify(target)} is not an EC2 instance id (i-0123456789abcdef0) or an ECS target (ecs:<cluster>_<taskId>_<runtimeId>): pass the jump host's id`,
  );
}

/** A new SSM client with the standard credential chain and region; the SDK honours AWS_ENDPOINT_URL. */
export function defaultSsmClient(): SSMClient {
  return new SSMClient({ maxAttempts: 3 });
}

export async function startSession(ssm: SSMClient, input: StartSessionInput): Promise<SessionTicket> {
  validateTarget(input.target);
  const documentName = input.documentName ?? DEFAULT_DOCUMENT;
  const parameters: Record<string, string[]> = {
    portNumber: [String(input.port)],
    localPortNumber: [String(input.localPort)],
  };
  // AWS-StartPortForwardingSession has no "host" (it forwards to the target itself) and rejects unknown
  // parameters; the remote-host document and dbtunnel's pinned Port documents declare host, portNumber
  // and localPortNumber (a pinned document admits exactly its database's host and port).
  if (documentName !== LOCAL_ONLY_DOCUMENT) parameters.host = [input.host];
  let output: StartSessionCommandOutput;
  try {
    output = await ssm.send(
      new StartSessionCommand({
        Target: input.target,
        DocumentName: documentName,
        Parameters: parameters,
        ...(input.reason ? { Reason: input.reason } : {}),
      }),
    );
  } catch (error) {
    throw mapSsmError(error, { operation: "StartSession", target: input.target, documentName });
  }
  if (!output.SessionId || !output.StreamUrl || !output.TokenValue) {
    throw new TunnelError(
      "ProtocolError",
      "StartSession answered without SessionId, StreamUrl or TokenValue: check AWS_ENDPOINT_URL points at Systems Manager",
    );
  }
  return { SessionId: output.SessionId, StreamUrl: output.StreamUrl, TokenValue: output.TokenValue };
}

/** One ResumeSession call: the new token, or undefined when the service gave none (session timed out). */
export async function resumeSession(ssm: SSMClient, sessionId: string): Promise<string | undefined> {
  try {
    const output = await ssm.send(new ResumeSessionCommand({ SessionId: sessionId }));
    return output.TokenValue || undefined;
  } catch (error) {
    throw mapSsmError(error, { operation: "ResumeSession", target: sessionId });
  }
}

export async function terminateSession(ssm: SSMClient, sessionId: string): Promise<void> {
  try {
    await ssm.send(new TerminateSessionCommand({ SessionId: sessionId }));
  } catch (error) {
    throw mapSsmError(error, { operation: "TerminateSession", target: sessionId });
  }
}

export interface ErrorContext {
  readonly operation: string;
  readonly target: string;
  readonly documentName?: string;
}

/** Maps an SDK (or network) error to a TunnelError with a one-line, actionable message; never includes secrets. */
export function mapSsmError(error: unknown, context: ErrorContext): TunnelError {
  if (error instanceof TunnelError) return error;
  const name = (error as { name?: string } | undefined)?.name ?? "";
  const code = (error as { code?: string } | undefined)?.code ?? "";
  const detail = firstLine((error as { message?: string } | undefined)?.message ?? String(error));
  const action = `ssm:${context.operation}`;
  switch (name) {
    case "AccessDeniedException":
    case "AccessDenied":
      return new TunnelError(
        "AccessDenied",
        `not allowed to call ${action} on ${context.target}${context.documentName ? ` with ${context.documentName}` : ""}: ask your platform team for the dbtunnel engineer policy (it grants ssm:StartSession on the jump host and the document)`,
        { cause: error },
      );
    case "TargetNotConnected":
      return new TunnelError(
        "TargetNotConnected",
        `${context.target} is not connected to Session Manager: check that the jump host is running and its SSM agent reaches the ssm, ssmmessages and ec2messages endpoints`,
        { cause: error },
      );
    case "InvalidTarget":
    case "InvalidInstanceId":
      return new TunnelError(
        "InvalidTarget",
        `${context.target} is not a managed node Session Manager knows: check the instance id (or ECS target) and the region`,
        { cause: error },
      );
    case "InvalidDocument":
    case "InvalidDocumentOperation":
    case "InvalidParameters":
    case "ValidationException":
      return new TunnelError(
        "InvalidDocument",
        `${action} rejected the request (${detail}): check the document name and its parameters`,
        { cause: error },
      );
    case "ExpiredTokenException":
    case "ExpiredToken":
    case "RequestExpired":
      return new TunnelError(
        "ExpiredCredentials",
        "your AWS credentials have expired: refresh them (for example aws sso login, or assume the role again) and retry",
        { cause: error },
      );
    case "CredentialsProviderError":
      return new TunnelError(
        "NoCredentials",
        "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or run aws sso login, and retry",
        { cause: error },
      );
    case "UnrecognizedClientException":
    case "InvalidClientTokenId":
    case "InvalidSignatureException":
    case "IncompleteSignature":
      return new TunnelError(
        "NoCredentials",
        `AWS did not accept your credentials (${name}): check AWS_PROFILE and the region, then retry`,
        { cause: error },
      );
    case "DoesNotExistException":
      return new TunnelError(
        "ConnectionFailed",
        `session ${context.target} no longer exists (${action}): start a new one`,
        { cause: error },
      );
    default:
      break;
  }
  if (
    ["ECONNREFUSED", "ENOTFOUND", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN"].includes(code) ||
    /ECONNREFUSED|Unable to connect|fetch failed/i.test(detail)
  ) {
    return new TunnelError(
      "ConnectionFailed",
      `could not reach Systems Manager for ${action} (${code || detail}): check your network, the region and AWS_ENDPOINT_URL`,
      { cause: error },
    );
  }
  return new TunnelError("ConnectionFailed", `${action} failed: ${detail}`, { cause: error });
}

function firstLine(text: string): string {
  const line = text.split("\n")[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
