/**
 * RDS IAM auth tokens. Always signed for the REAL endpoint and port: the signature covers the host, so a
 * token for 127.0.0.1:<local port> is refused by the database. A fresh token per launch (they last 15 min
 * and are only checked when a connection starts).
 */
import { Signer } from "@aws-sdk/rds-signer";
import { registerSecret } from "./redact.ts";

export interface TokenRequest {
  readonly endpoint: string;
  readonly port: number;
  readonly user: string;
  readonly region: string;
}

export async function generateToken(request: TokenRequest): Promise<string> {
  const signer = new Signer({
    hostname: request.endpoint,
    port: request.port,
    username: request.user,
    region: request.region,
  });
  const token = await signer.getAuthToken();
  registerSecret(token);
  return token;
}
