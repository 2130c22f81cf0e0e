/**
 * The refusal checks of both engines: a control login with a hand-presigned token signed now is accepted
 * (so the refusals are not caused by a malformed token), then another user's token, an expired token, a
 * CA that did not sign the server's certificate and a name the certificate does not carry are each
 * refused, for the right reason. The engine's own client comes in as a `LoginProbe`.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeUnrelatedCa } from "../test-support/certificates.ts";
import type { DbContext } from "./db-steps.ts";
import { presignRdsToken, rdsSignerToken } from "./tokens.ts";

/** One login through the tunnel as the IAM user, with these deviations from the right one. */
export interface Login {
  readonly token: string;
  /** @default the CA bundle */
  readonly caPath?: string;
  /** The server name the client verifies. @default the endpoint */
  readonly host?: string;
}

/** How one engine's own client logs in; what its refusals look like. */
export interface LoginProbe {
  /** Resolves when the login succeeds; throws one line when it does not. */
  accepted(login: Login): Promise<void>;
  /** The client's first error line when the login is refused as `expected`; throws otherwise. */
  refused(login: Login, expected: RegExp): Promise<string>;
  /** The server's refusal of a token (PostgreSQL: authentication failed; MySQL: ERROR 1045). */
  readonly badToken: RegExp;
  readonly wrongCa: RegExp;
  readonly wrongName: RegExp;
}

/** A token for `user` from the AWS SDK's signer, as the CLI makes it. */
export async function freshToken(db: DbContext, user = db.iamUser): Promise<string> {
  return rdsSignerToken({
    hostname: db.endpoint,
    port: db.port,
    username: user,
    region: db.region,
    credentials: await db.credentials(),
  });
}

/** What must be refused is refused, for the right reason; one evidence line per check. */
export async function refusals(db: DbContext, probe: LoginProbe): Promise<string[]> {
  const evidence: string[] = [];
  const request = {
    hostname: db.endpoint,
    port: db.port,
    username: db.iamUser,
    region: db.region,
    credentials: await db.credentials(),
  };
  await probe.accepted({ token: await presignRdsToken(request, new Date()) });
  evidence.push("control: hand-presigned token (signed now) accepted");

  const otherUser = await freshToken(db, "dbtunnel_e2e_someone_else");
  evidence.push(`token for another user: ${await probe.refused({ token: otherUser }, probe.badToken)}`);

  const expired = await presignRdsToken(request, new Date(Date.now() - 20 * 60_000));
  evidence.push(`expired token: ${await probe.refused({ token: expired }, probe.badToken)}`);

  const dir = mkdtempSync(join(tmpdir(), "dbtunnel-wrong-ca-"));
  try {
    const caPath = makeUnrelatedCa(dir, "dbtunnel-e2e-wrong-ca");
    evidence.push(`wrong CA: ${await probe.refused({ token: await freshToken(db), caPath }, probe.wrongCa)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const wrongName = { token: await freshToken(db), host: "db.example.com" };
  evidence.push(`wrong server name: ${await probe.refused(wrongName, probe.wrongName)}`);
  return evidence;
}
