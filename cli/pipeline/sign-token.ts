/**
 * Step 4, "sign a token": an RDS IAM auth token, always for the REAL endpoint and port (the signature
 * covers the host, so a token for 127.0.0.1:<local port> is refused by the database). A fresh token per
 * launch: they last 15 minutes and are only checked when a connection starts. The signer is imported on
 * use: `connect --listen` never signs (the engineer runs `dbtunnel token`) and keeps its memory.
 */
import type { AwsCredentialIdentity } from "../aws.ts";
import { registerSecret } from "../redact.ts";
import type { StackTarget } from "../target.ts";

export interface TokenRequest {
  readonly endpoint: string;
  readonly port: number;
  readonly user: string;
  readonly region: string;
  /** @default the SDK's standard chain */
  readonly credentials?: AwsCredentialIdentity;
}

/** The token for a database login of this target. */
export function signToken(
  target: StackTarget,
  user: string,
  credentials?: AwsCredentialIdentity,
): Promise<string> {
  return generateToken({
    endpoint: target.db.endpoint,
    port: target.db.port,
    user,
    region: target.region,
    credentials,
  });
}

export async function generateToken(request: TokenRequest): Promise<string> {
  const { Signer } = await import("@aws-sdk/rds-signer");
  const signer = new Signer({
    hostname: request.endpoint,
    port: request.port,
    username: request.user,
    region: request.region,
    ...(request.credentials ? { credentials: request.credentials } : {}),
  });
  const token = await signer.getAuthToken();
  registerSecret(token);
  return token;
}
