/**
 * IAM on the Session Manager calls, decided like AWS for principals moto issued (IAM users and
 * assumed-role sessions; the sandbox's own administrator key may do everything):
 *
 * - StartSession is authorized twice, against the target (instance or ECS task ARN, with the target's
 *   tags as `ssm:resourceTag/<key>` and `aws:ResourceTag/<key>`) and against the document ARN (AWS-owned
 *   documents have an empty account field), the latter with `ssm:SessionDocumentAccessCheck = true`
 *   ("Start a session with a document by specifying the session documents in IAM policies"). Both must
 *   be allowed.
 * - ResumeSession / TerminateSession are authorized against `arn:aws:ssm:<region>:<account>:session/<id>`
 *   with the tags Session Manager puts on every session ("Additional sample IAM policies for Session
 *   Manager", example "Allow a user to end only sessions they started", method 2):
 *   `aws:ssmmessages:session-id` = the starter's `aws:userid` and `aws:ssmmessages:target-id` = the target.
 *
 * The AccessDenied wording is IAM's: `User: <arn> is not authorized to perform: <action> on resource:
 * <arn> because no identity-based policy allows the <action> action` (or `with an explicit deny in an
 * identity-based policy`).
 */
import { ApiError } from "./aws-errors.ts";
import type { Caller } from "./caller.ts";
import type { IamPrincipal, MotoIdentities } from "./iam-identity.ts";
import { type AuthorizationRequest, type Decision, evaluate } from "./iam-policy.ts";

export interface AuthorizerContext {
  readonly region: string;
  readonly accountId: string;
  readonly identities: MotoIdentities;
}

/** The tags Session Manager applies to every session it starts. */
export interface SessionOwnership {
  readonly ownerUserId: string;
  readonly target: string;
}

export function principalContext(principal: IamPrincipal): Record<string, string | undefined> {
  return {
    "aws:userid": principal.userId,
    "aws:username": principal.userName,
    "aws:PrincipalArn": principal.arn,
    "aws:PrincipalAccount": principal.accountId,
  };
}

function tagContext(tags: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    out[`ssm:resourceTag/${key}`] = value;
    out[`aws:ResourceTag/${key}`] = value;
  }
  return out;
}

async function decide(
  ctx: AuthorizerContext,
  principal: IamPrincipal,
  request: AuthorizationRequest,
): Promise<void> {
  const decision: Decision = evaluate(await ctx.identities.policies(principal), request);
  if (decision === "allow") return;
  const why =
    decision === "explicit-deny"
      ? "with an explicit deny in an identity-based policy"
      : `because no identity-based policy allows the ${request.action} action`;
  throw new ApiError(
    "AccessDeniedException",
    `User: ${principal.arn} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`,
  );
}

export async function authorizeStartSession(
  ctx: AuthorizerContext,
  caller: Caller,
  target: { readonly arn: string; readonly tags: Readonly<Record<string, string>> },
  documentArn: string,
): Promise<void> {
  if (typeof caller === "string") return;
  const base = principalContext(caller.principal);
  await decide(ctx, caller.principal, {
    action: "ssm:StartSession",
    resource: target.arn,
    context: { ...base, ...tagContext(target.tags) },
  });
  await decide(ctx, caller.principal, {
    action: "ssm:StartSession",
    resource: documentArn,
    context: { ...base, "ssm:SessionDocumentAccessCheck": "true" },
  });
}

export function sessionArn(ctx: AuthorizerContext, sessionId: string): string {
  return `arn:aws:ssm:${ctx.region}:${ctx.accountId}:session/${sessionId}`;
}

export async function authorizeSessionCall(
  ctx: AuthorizerContext,
  caller: Caller,
  action: "ssm:ResumeSession" | "ssm:TerminateSession",
  sessionId: string,
  ownership: SessionOwnership | undefined,
): Promise<void> {
  if (typeof caller === "string") return;
  const tags: Record<string, string> = ownership
    ? { "aws:ssmmessages:session-id": ownership.ownerUserId, "aws:ssmmessages:target-id": ownership.target }
    : {};
  await decide(ctx, caller.principal, {
    action,
    resource: sessionArn(ctx, sessionId),
    context: { ...principalContext(caller.principal), ...tagContext(tags) },
  });
}
