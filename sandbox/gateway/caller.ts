/**
 * Who signed a request, checked like AWS checks it: the SigV4 access key id must be one the sandbox
 * issued, and the session token must be that key's current one. A wrong token is how tests simulate
 * expired credentials. Signatures themselves are not verified (moto does not either).
 */

import type { AwsProtocol } from "./aws-errors.ts";
import type { IamPrincipal } from "./iam-identity.ts";
import type { SandboxCredentials } from "./types.ts";

export interface SignedIdentity {
  readonly accessKeyId?: string;
  readonly sessionToken?: string;
  /** Service name of the SigV4 credential scope (ssm, ec2, sts, s3, ...). */
  readonly service?: string;
}

/** Reads the identity from the Authorization header or a presigned URL's X-Amz-Credential. */
export function readIdentity(req: Request, url: URL): SignedIdentity {
  const token =
    req.headers.get("x-amz-security-token") ?? url.searchParams.get("X-Amz-Security-Token") ?? undefined;
  const auth = req.headers.get("authorization");
  const scope = auth
    ? /Credential=([^,\s]+)/.exec(auth)?.[1]
    : (url.searchParams.get("X-Amz-Credential") ?? undefined);
  if (!scope) return token === undefined ? {} : { sessionToken: token };
  // <AKID>/<date>/<region>/<service>/aws4_request
  const [accessKeyId, , , service] = scope.split("/");
  return { accessKeyId, sessionToken: token, service };
}

/**
 * "sandbox": the sandbox's own (administrator) credentials; "restricted": a key whose role may do
 * everything but StartSession; an IAM principal: a user or assumed-role session moto issued the key
 * to, whose identity policies the gateway evaluates on session calls (session-authorizer.ts).
 */
export type Caller = "sandbox" | "restricted" | "unsigned" | { readonly principal: IamPrincipal };

export interface CallerRejection {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  /** The access key id is not one of the sandbox's: moto's IAM may still know it. */
  readonly unknownKey?: boolean;
}

export function classifyCaller(
  identity: SignedIdentity,
  protocol: AwsProtocol,
  sandbox: SandboxCredentials,
  restricted: SandboxCredentials | undefined,
): Caller | CallerRejection {
  // Unsigned requests (moto-api calls from tests, health probes) are not AWS calls: let them through.
  if (!identity.accessKeyId) return "unsigned";
  const known =
    identity.accessKeyId === sandbox.accessKeyId
      ? { caller: "sandbox" as const, creds: sandbox }
      : restricted && identity.accessKeyId === restricted.accessKeyId
        ? { caller: "restricted" as const, creds: restricted }
        : undefined;
  if (!known) {
    if (protocol === "json") {
      return {
        status: 403,
        code: "UnrecognizedClientException",
        message: "The security token included in the request is invalid.",
        unknownKey: true,
      };
    }
    if (protocol === "rest-xml") {
      return {
        status: 403,
        code: "InvalidAccessKeyId",
        message: "The AWS Access Key Id you provided does not exist in our records.",
        unknownKey: true,
      };
    }
    return {
      status: 403,
      code: "InvalidClientTokenId",
      message: "The security token included in the request is invalid.",
      unknownKey: true,
    };
  }
  if ((identity.sessionToken ?? "") !== (known.creds.sessionToken ?? "")) {
    if (protocol === "json") {
      return {
        status: 400,
        code: "ExpiredTokenException",
        message: "The security token included in the request is expired",
      };
    }
    return {
      status: 400,
      code: "ExpiredToken",
      message: "The security token included in the request is expired",
    };
  }
  return known.caller;
}
