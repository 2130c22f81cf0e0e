import { timingSafeEqual } from "node:crypto";
import { Hash } from "@smithy/hash-node";
import { SignatureV4 } from "@smithy/signature-v4";
import type { HttpRequest } from "@smithy/types";
import type { SandboxCredentials } from "./gateway/types.ts";

/** RDS accepts tokens for 15 minutes at most ("IAM database authentication"). */
export const MAX_TOKEN_EXPIRES_SECONDS = 900;
/** How far in the future X-Amz-Date may lie, for clocks that are slightly apart. */
export const DEFAULT_CLOCK_SKEW_MS = 60_000;

/** Parameters a token made by @aws-sdk/rds-signer carries: nothing else is accepted. */
const EXPECTED_PARAMS = new Set([
  "Action",
  "DBUser",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Security-Token",
  "X-Amz-Signature",
]);

export interface TokenCheckContext {
  /** The sandbox credentials the token must be signed with. */
  readonly credentials: SandboxCredentials;
  readonly region: string;
  /** The login role PostgreSQL asked about (from the bind DN). */
  readonly loginUser: string;
  /** True if host:port is the advertised endpoint of a database in the account. */
  readonly isDatabaseEndpoint: (host: string, port: number) => Promise<boolean>;
  /** @default new Date() */
  readonly now?: Date;
  /** @default 60 s */
  readonly clockSkewMs?: number;
}

export type TokenCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const refuse = (reason: string): TokenCheck => ({ ok: false, reason });

/** 20240102T030405Z → Date, or undefined if it is not in that exact form. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/**
 * Checks an RDS IAM authentication token the way RDS would, for the sandbox account: format of
 * @aws-sdk/rds-signer, credential scope, lifetime, the endpoint it was signed for, the user, and finally
 * the SigV4 signature — recomputed with the same SignatureV4.presign the signer uses, so the two can never
 * disagree about canonicalisation. The reason in a refusal never contains the token.
 */
export async function checkIamToken(token: string, ctx: TokenCheckContext): Promise<TokenCheck> {
  const now = ctx.now ?? new Date();
  const skew = ctx.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;

  const slash = token.indexOf("/?");
  const hostPort = slash > 0 ? token.slice(0, slash) : "";
  const hp = /^([a-z0-9.-]+):(\d{1,5})$/i.exec(hostPort);
  if (!hp) return refuse("not an RDS IAM token (expected <endpoint>:<port>/?Action=connect&DBUser=...)");
  // The signature covers the host exactly as signed; endpoint lookup is case-insensitive like DNS.
  const host = hp[1] as string;
  const port = Number(hp[2]);

  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(token.slice(slash + 2))) {
    if (!EXPECTED_PARAMS.has(key)) return refuse(`unexpected query parameter ${JSON.stringify(key)}`);
    if (params.has(key)) return refuse(`query parameter ${key} appears twice`);
    params.set(key, value);
  }
  const get = (key: string) => params.get(key);

  if (get("Action") !== "connect") return refuse("Action is not connect");
  const dbUser = get("DBUser");
  if (!dbUser) return refuse("DBUser is missing");
  if (dbUser !== ctx.loginUser) {
    return refuse(
      `token is for DBUser ${JSON.stringify(dbUser)}, login role is ${JSON.stringify(ctx.loginUser)}`,
    );
  }
  if (get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") return refuse("X-Amz-Algorithm is not AWS4-HMAC-SHA256");
  if (get("X-Amz-SignedHeaders") !== "host") return refuse("X-Amz-SignedHeaders is not host");

  const scope = (get("X-Amz-Credential") ?? "").split("/");
  if (scope.length !== 5 || scope[4] !== "aws4_request") return refuse("X-Amz-Credential is malformed");
  const [keyId, scopeDay, scopeRegion, scopeService] = scope as [string, string, string, string];
  if (keyId !== ctx.credentials.accessKeyId)
    return refuse("signed with an access key id this account does not know");
  if (scopeService !== "rds-db") return refuse(`credential scope service is ${scopeService}, not rds-db`);
  if (scopeRegion !== ctx.region)
    return refuse(`credential scope region is ${scopeRegion}, not ${ctx.region}`);

  const amzDate = get("X-Amz-Date") ?? "";
  const signedAt = parseAmzDate(amzDate);
  if (!signedAt) return refuse("X-Amz-Date is malformed");
  if (amzDate.slice(0, 8) !== scopeDay) return refuse("credential scope date differs from X-Amz-Date");
  const expiresRaw = get("X-Amz-Expires") ?? "";
  if (!/^\d{1,6}$/.test(expiresRaw)) return refuse("X-Amz-Expires is malformed");
  const expires = Number(expiresRaw);
  if (expires < 1 || expires > MAX_TOKEN_EXPIRES_SECONDS) {
    return refuse(`X-Amz-Expires is ${expires}, must be 1..${MAX_TOKEN_EXPIRES_SECONDS}`);
  }
  if (signedAt.getTime() - now.getTime() > skew) return refuse("X-Amz-Date lies in the future");
  if (signedAt.getTime() + expires * 1000 <= now.getTime()) {
    return refuse(`token expired at ${new Date(signedAt.getTime() + expires * 1000).toISOString()}`);
  }

  const expectedSessionToken = ctx.credentials.sessionToken;
  const sessionToken = get("X-Amz-Security-Token");
  if (!constantTimeEqual(expectedSessionToken ?? "", sessionToken ?? "")) {
    return refuse("X-Amz-Security-Token is not the session token of the sandbox credentials");
  }

  const signature = get("X-Amz-Signature") ?? "";
  const expected = await presignedToken(host, port, dbUser, signedAt, expires, ctx);
  if (!constantTimeEqual(signature, expected.signature))
    return refuse("signature does not match (wrong secret or altered token)");
  // The signature is over the canonical query. Parsed values can hide a different literal query
  // (`DBUser=al%69ce`, `+` for a space, reordered parameters): accept only the exact bytes the signer
  // produces for these values, so what is verified is the query as sent.
  if (!expected.tokens.some((form) => constantTimeEqual(token, form)))
    return refuse("query is not in the canonical form the RDS signer produces (altered token)");

  // Last, as it costs a call to moto: the signature covers host:port, so the token must have been made
  // for a real database endpoint, not for the local tunnel port.
  if (!(await ctx.isDatabaseEndpoint(host.toLowerCase(), port))) {
    return refuse(
      `${host}:${port} is not the endpoint of a database in this account (sign for the RDS endpoint, not the local port)`,
    );
  }
  return { ok: true };
}

/** SigV4 URI encoding of a query key or value (RFC 3986 unreserved characters stay as they are). */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The order botocore (`aws rds generate-db-auth-token`, boto3's generate_db_auth_token) writes a token's
 * parameters in: its own query first, then the signing parameters in the order SigV4QueryAuth adds them,
 * the signature last. RDS accepts it (SigV4 sorts the parameters before verifying), so the sandbox does.
 */
const BOTOCORE_ORDER = [
  "Action",
  "DBUser",
  "X-Amz-Algorithm",
  "X-Amz-Credential",
  "X-Amz-Date",
  "X-Amz-Expires",
  "X-Amz-SignedHeaders",
  "X-Amz-Security-Token",
  "X-Amz-Signature",
];

/**
 * The signature and the tokens the AWS signers would have produced for these inputs: @aws-sdk/rds-signer's
 * (Signer.getAuthToken: presign, then `<host>:<port>/?<query>` with the keys sorted, as formatUrl does) and
 * botocore's (the same encoded pairs in BOTOCORE_ORDER). Nothing else: other orders or encodings of the
 * same values are refused, so what is verified is the query as sent.
 */
async function presignedToken(
  hostname: string,
  port: number,
  dbUser: string,
  signingDate: Date,
  expiresIn: number,
  ctx: TokenCheckContext,
): Promise<{ signature: string; tokens: readonly string[] }> {
  const signer = new SignatureV4({
    service: "rds-db",
    region: ctx.region,
    credentials: ctx.credentials,
    sha256: Hash.bind(null, "sha256"),
  });
  const request: HttpRequest = {
    method: "GET",
    protocol: "https:",
    hostname,
    port,
    path: "/",
    query: { Action: "connect", DBUser: dbUser },
    headers: { host: `${hostname}:${port}` },
  };
  const presigned = await signer.presign(request, { expiresIn, signingDate });
  const entries = Object.entries(presigned.query ?? {});
  const encode = ([key, value]: [string, unknown]) => `${escapeUri(key)}=${escapeUri(String(value))}`;
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const rank = (key: string) => {
    const i = BOTOCORE_ORDER.indexOf(key);
    return i < 0 ? BOTOCORE_ORDER.length : i;
  };
  const botocore = [...entries].sort(([a], [b]) => rank(a) - rank(b));
  const value = presigned.query?.["X-Amz-Signature"];
  return {
    signature: typeof value === "string" ? value : "",
    tokens: [sorted, botocore].map((pairs) => `${hostname}:${port}/?${pairs.map(encode).join("&")}`),
  };
}

/**
 * The login role and database slot from the bind DN the sandbox PostgreSQL builds:
 * `cn=<role>,dc=db-<N>,dc=rds-iam` for a login that arrived from database slot N's address, or
 * `cn=<role>,dc=any,dc=rds-iam` from the shared 127.0.0.1 (see postgres.ts pgHba). The scope is read
 * from the end, so a role name containing ",dc=db-3" cannot pose as slot 3.
 */
export function parsePostgresBindDn(dn: string): { user: string; slot?: number } | undefined {
  const m = /^cn=([\s\S]+),dc=(db-([1-9]\d{0,3})|any),dc=rds-iam$/.exec(dn);
  if (!m) return undefined;
  const user = m[1] as string;
  return m[3] === undefined ? { user } : { user, slot: Number(m[3]) };
}

/**
 * The login user and database slot from the bind DN the sandbox MariaDB's AWSAuthenticationPlugin builds:
 * `cn=<user>,dc=<client address>,dc=rds-iam-mysql`. A login that arrived from database slot N's address
 * (127.0.1.N, see postgres.ts slotAddress) names slot N; from anywhere else, no slot. The plugin refuses
 * user names with `,` or `=`, and the address is read from the end, so a user cannot pose as a slot.
 */
export function parseMysqlBindDn(dn: string): { user: string; slot?: number } | undefined {
  const m = /^cn=([^,=]+),dc=([0-9a-f.:]{1,45}),dc=rds-iam-mysql$/i.exec(dn);
  if (!m) return undefined;
  const user = m[1] as string;
  const slot = /^127\.0\.1\.([1-9]\d{0,2})$/.exec(m[2] as string)?.[1];
  return slot === undefined ? { user } : { user, slot: Number(slot) };
}

/** Extracts the login role from a bind DN: ldapprefix "cn=" + user + ldapsuffix. */
export function loginUserFromDn(dn: string, suffix = ",dc=rds-iam"): string | undefined {
  if (!dn.startsWith("cn=") || !dn.endsWith(suffix)) return undefined;
  const user = dn.slice(3, dn.length - suffix.length);
  return user.length > 0 ? user : undefined;
}
