/**
 * RDS IAM tokens for the flow. Good tokens come from `@aws-sdk/rds-signer`, exactly as the CLI makes them;
 * the expired token for the negative check is presigned the same way with a signing date in the past
 * (rds-signer has no clock option). `presignRdsToken` with today's date must be accepted, which proves
 * that a refusal of the expired one is about expiry and not about a malformed token.
 */
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentials } from "../cli/demo/aws-clients.ts";

export interface TokenRequest {
  /** The REAL database endpoint and port (never the tunnel's 127.0.0.1:<local port>). */
  readonly hostname: string;
  readonly port: number;
  readonly username: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
}

/** A fresh token from @aws-sdk/rds-signer (valid 15 minutes). */
export async function rdsSignerToken(t: TokenRequest): Promise<string> {
  const { Signer } = await import("@aws-sdk/rds-signer");
  return new Signer({
    hostname: t.hostname,
    port: t.port,
    username: t.username,
    region: t.region,
    credentials: t.credentials,
  }).getAuthToken();
}

/** The same presigned `connect` request rds-signer builds, signed at `signingDate`. */
export async function presignRdsToken(
  t: TokenRequest,
  signingDate: Date,
  expiresInSeconds = 900,
): Promise<string> {
  const signer = new SignatureV4({
    service: "rds-db",
    region: t.region,
    credentials: t.credentials,
    sha256: Hash.bind(null, "sha256"),
  });
  const presigned = await signer.presign(
    {
      method: "GET",
      protocol: "https:",
      hostname: t.hostname,
      port: t.port,
      path: "/",
      query: { Action: "connect", DBUser: t.username },
      headers: { host: `${t.hostname}:${t.port}` },
    },
    { expiresIn: expiresInSeconds, signingDate },
  );
  // formatUrl (what rds-signer uses) sorts the parameters; do the same so both tokens are identical.
  const query = Object.entries(presigned.query ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map(
        (v) => `${encodeURIComponent(key)}=${encodeURIComponent(String(v ?? ""))}`,
      ),
    )
    .join("&");
  return `${t.hostname}:${t.port}/?${query}`;
}
