/**
 * Every failure the CLI reports is one line saying what was wrong and what to do. Commands throw
 * `CliError` (or `UsageError` for bad arguments); `describeError` turns anything else (tunnel errors,
 * AWS SDK errors, file-system errors) into the same shape so main.ts has exactly one way to print.
 */
import { TunnelError, type TunnelErrorCode } from "../tunnel/types.ts";
import { redact } from "./redact.ts";

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliErrorOptions {
  /** Stable machine-readable code, used in `--json` error events. @default "Error" */
  readonly code?: string;
  /** @default 1 */
  readonly exitCode?: number;
  readonly cause?: unknown;
}

export class CliError extends Error {
  override readonly name: string = "CliError";
  readonly code: string;
  readonly exitCode: number;
  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? "Error";
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }
}

/** Bad command line: exit 2 with a pointer to --help. */
export class UsageError extends CliError {
  override readonly name = "UsageError";
  constructor(message: string, helpCommand = "dbtunnel --help") {
    super(`${message} (see '${helpCommand}')`, { code: "Usage", exitCode: EXIT_USAGE });
  }
}

/** What the CLI knows about the stack when explaining a failure (fills in names in the fix). */
export interface ErrorContext {
  readonly target?: string;
  readonly engineerPolicyArn?: string;
  readonly stackName?: string;
}

const TUNNEL_CODE_TEXT: Record<TunnelErrorCode, (ctx: ErrorContext, original: string) => string> = {
  NoCredentials: () => NO_CREDENTIALS,
  ExpiredCredentials: () => EXPIRED_CREDENTIALS,
  AccessDenied: (ctx) =>
    `Access denied: you lack ssm:StartSession on ${ctx.target ?? "the jump host"}; attach the stack's engineer policy ${policyName(ctx)} to your role or user.`,
  InvalidTarget: (ctx) =>
    `Session Manager does not know the target ${ctx.target ?? ""}: check the stack outputs are current ('cdktf output') and the jump host still exists.`,
  TargetNotConnected: (ctx) =>
    `The jump host ${ctx.target ?? ""} is not connected to Session Manager (instance stopped or its SSM agent offline): run 'dbtunnel doctor' to see why.`,
  InvalidDocument: (_ctx, original) =>
    `Session Manager rejected the session document or its parameters (${original}): use the stack's own document (output session_document_name), or pass --document for a stack dbtunnel did not deploy.`,
  LocalPortInUse: (_ctx, original) => `${original}`,
  HandshakeFailed: (_ctx, original) => `Session handshake with the jump host failed: ${original}`,
  ProtocolError: (_ctx, original) => `Session Manager protocol error: ${original}`,
  ConnectionFailed: (_ctx, original) => `Could not reach Session Manager: ${original}`,
  Aborted: () => "Cancelled.",
};

function policyName(ctx: ErrorContext): string {
  if (ctx.engineerPolicyArn) return ctx.engineerPolicyArn;
  return ctx.stackName
    ? `(output engineer_policy_arn of stack ${ctx.stackName})`
    : "(output engineer_policy_arn)";
}

export const NO_CREDENTIALS =
  "No AWS credentials found: sign in (e.g. 'aws sso login' or set AWS_PROFILE), or for the local sandbox run 'eval \"$(dbtunnel sandbox up)\"'.";
export const EXPIRED_CREDENTIALS =
  "Your AWS credentials have expired: sign in again (e.g. 'aws sso login') and retry.";

const EXPIRED_NAMES = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "RequestExpired",
  "TokenRefreshRequired",
]);
const DENIED_NAMES = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"]);
const BAD_KEY_NAMES = new Set([
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "SignatureDoesNotMatch",
  "AuthFailure",
]);

/** Normalises any thrown value into a CliError with a one-line, secret-free message. */
export function describeError(error: unknown, ctx: ErrorContext = {}): CliError {
  if (error instanceof CliError) return withRedactedMessage(error);
  if (error instanceof TunnelError) {
    const text = TUNNEL_CODE_TEXT[error.code](ctx, firstLine(error.message));
    return new CliError(redact(text), { code: error.code, cause: error });
  }
  const name = errorName(error);
  const message = firstLine(error instanceof Error ? error.message : String(error));
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    return new CliError(NO_CREDENTIALS, { code: "NoCredentials", cause: error });
  }
  if (EXPIRED_NAMES.has(name) || (/expired/i.test(message) && /token|credential/i.test(message))) {
    return new CliError(EXPIRED_CREDENTIALS, { code: "ExpiredCredentials", cause: error });
  }
  if (BAD_KEY_NAMES.has(name)) {
    return new CliError(
      `AWS rejected your credentials (${name}): check AWS_PROFILE / AWS_ACCESS_KEY_ID, or sign in again.`,
      { code: "InvalidCredentials", cause: error },
    );
  }
  if (DENIED_NAMES.has(name)) {
    return new CliError(
      redact(
        `Access denied: ${message}; attach the stack's engineer policy ${policyName(ctx)} to your role or user.`,
      ),
      { code: "AccessDenied", cause: error },
    );
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ECONNREFUSED" || name === "ECONNREFUSED" || /ECONNREFUSED|Unable to connect/i.test(message)) {
    const endpoint = process.env.AWS_ENDPOINT_URL;
    return new CliError(
      endpoint
        ? `Cannot reach the AWS endpoint ${endpoint}: is the sandbox running ('dbtunnel sandbox status')?`
        : `Cannot reach AWS: ${redact(message)}; check your network and proxy settings.`,
      { code: "EndpointUnreachable", cause: error },
    );
  }
  if (/XML parse error|Deserialization error|Unexpected token .* JSON|is not valid JSON/i.test(message)) {
    const endpoint = process.env.AWS_ENDPOINT_URL;
    return new CliError(
      endpoint
        ? `The AWS endpoint ${endpoint} sent an unreadable answer: check it is healthy ('dbtunnel sandbox status' for the sandbox) and retry.`
        : "AWS sent an unreadable answer (a proxy or captive portal in the way?): check your network and retry.",
      { code: "BadResponse", cause: error },
    );
  }
  return new CliError(redact(message || name || "unknown error"), { code: name || "Error", cause: error });
}

function withRedactedMessage(error: CliError): CliError {
  const clean = redact(firstLine(error.message));
  if (clean === error.message) return error;
  return new CliError(clean, { code: error.code, exitCode: error.exitCode, cause: error.cause ?? error });
}

export function errorName(error: unknown): string {
  if (error && typeof error === "object" && "name" in error && typeof error.name === "string")
    return error.name;
  return "";
}

export function firstLine(text: string): string {
  return (text.split("\n").find((line) => line.trim() !== "") ?? "").trim();
}
