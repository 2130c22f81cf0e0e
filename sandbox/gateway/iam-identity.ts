/**
 * Who an access key belongs to in moto's IAM, and which identity policies apply to it, so the gateway
 * can evaluate Session Manager calls like IAM does. Two kinds of principal, as the stack's engineers
 * are: an IAM user (its inline and attached policies and those of its groups) and an assumed-role
 * session (the role's inline and attached policies). The policy variables IAM fills in differ
 * ("IAM policy elements: variables", principal key values table):
 *
 * | principal    | aws:userid                   | aws:username | session-id prefix (Session Manager) |
 * | ------------ | ---------------------------- | ------------ | ----------------------------------- |
 * | IAM user     | `AIDA…` (the user's id)      | user name    | user name                           |
 * | assumed role | `AROA…:<role session name>`  | (none)       | role session name                   |
 *
 * IAM Identity Center users are assumed-role sessions of an `AWSReservedSSO_…` role whose session
 * name is the user's name, so they follow the assumed-role row.
 */
import {
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
} from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { PolicyDocument } from "./iam-policy.ts";
import type { SandboxCredentials } from "./types.ts";

export interface IamPrincipal {
  readonly kind: "user" | "assumed-role";
  /** The ARN AccessDenied messages name (`arn:aws:iam::…:user/x`, `arn:aws:sts::…:assumed-role/r/s`). */
  readonly arn: string;
  readonly accountId: string;
  /** `aws:userid`. */
  readonly userId: string;
  /** `aws:username` (IAM users only). */
  readonly userName?: string;
  /** What Session Manager puts before the random part of a session id. */
  readonly sessionIdPrefix: string;
  /** The IAM user name or the role name whose policies apply. */
  readonly policyOwner: string;
}

/** moto answers GetCallerIdentity for a key it never issued with this placeholder identity. */
const MOTO_PLACEHOLDER_USER_ID = "AKIAIOSFODNN7EXAMPLE";

const USER_ARN = /^arn:[a-z-]+:iam::(\d{12}):user\/(?:.*\/)?([\w+=,.@-]+)$/;
const ASSUMED_ROLE_ARN = /^arn:[a-z-]+:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/;

export class MotoIdentities {
  private readonly iam: IAMClient;

  constructor(
    private readonly motoUrl: string,
    private readonly region: string,
    admin: SandboxCredentials,
  ) {
    this.iam = new IAMClient({ endpoint: motoUrl, region, credentials: admin, maxAttempts: 1 });
  }

  /** The principal moto issued this access key to, or undefined for a key moto does not know. */
  async principal(accessKeyId: string): Promise<IamPrincipal | undefined> {
    // moto does not verify signatures: the key id alone tells it who is calling.
    const sts = new STSClient({
      endpoint: this.motoUrl,
      region: this.region,
      credentials: { accessKeyId, secretAccessKey: "unused-moto-does-not-verify-signatures" },
      maxAttempts: 1,
    });
    try {
      const who = await sts.send(new GetCallerIdentityCommand({}));
      if (!who.UserId || !who.Arn || who.UserId === MOTO_PLACEHOLDER_USER_ID) return undefined;
      const user = USER_ARN.exec(who.Arn);
      if (user) {
        const name = user[2] as string;
        return {
          kind: "user",
          arn: who.Arn,
          accountId: user[1] as string,
          userId: who.UserId,
          userName: name,
          sessionIdPrefix: name,
          policyOwner: name,
        };
      }
      const role = ASSUMED_ROLE_ARN.exec(who.Arn);
      if (role) {
        return {
          kind: "assumed-role",
          arn: who.Arn,
          accountId: role[1] as string,
          userId: who.UserId,
          sessionIdPrefix: role[3] as string,
          policyOwner: role[2] as string,
        };
      }
      return undefined;
    } finally {
      sts.destroy();
    }
  }

  /** Every identity policy that applies to the principal, read fresh (tests change them between calls). */
  async policies(principal: IamPrincipal): Promise<PolicyDocument[]> {
    const out: PolicyDocument[] = [];
    if (principal.kind === "user") {
      const UserName = principal.policyOwner;
      const inline = await this.iam.send(new ListUserPoliciesCommand({ UserName }));
      for (const PolicyName of inline.PolicyNames ?? []) {
        const p = await this.iam.send(new GetUserPolicyCommand({ UserName, PolicyName }));
        out.push(parsePolicy(p.PolicyDocument));
      }
      const attached = await this.iam.send(new ListAttachedUserPoliciesCommand({ UserName }));
      for (const a of attached.AttachedPolicies ?? []) out.push(await this.managed(a.PolicyArn));
      const groups = await this.iam.send(new ListGroupsForUserCommand({ UserName }));
      for (const group of groups.Groups ?? []) {
        const GroupName = group.GroupName as string;
        const gInline = await this.iam.send(new ListGroupPoliciesCommand({ GroupName }));
        for (const PolicyName of gInline.PolicyNames ?? []) {
          const p = await this.iam.send(new GetGroupPolicyCommand({ GroupName, PolicyName }));
          out.push(parsePolicy(p.PolicyDocument));
        }
        const gAttached = await this.iam.send(new ListAttachedGroupPoliciesCommand({ GroupName }));
        for (const a of gAttached.AttachedPolicies ?? []) out.push(await this.managed(a.PolicyArn));
      }
      return out;
    }
    const RoleName = principal.policyOwner;
    const inline = await this.iam.send(new ListRolePoliciesCommand({ RoleName }));
    for (const PolicyName of inline.PolicyNames ?? []) {
      const p = await this.iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }));
      out.push(parsePolicy(p.PolicyDocument));
    }
    const attached = await this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName }));
    for (const a of attached.AttachedPolicies ?? []) out.push(await this.managed(a.PolicyArn));
    return out;
  }

  close(): void {
    this.iam.destroy();
  }

  private async managed(policyArn: string | undefined): Promise<PolicyDocument> {
    const policy = await this.iam.send(new GetPolicyCommand({ PolicyArn: policyArn }));
    const version = await this.iam.send(
      new GetPolicyVersionCommand({ PolicyArn: policyArn, VersionId: policy.Policy?.DefaultVersionId }),
    );
    return parsePolicy(version.PolicyVersion?.Document);
  }
}

/** IAM returns policy documents URL-encoded (RFC 3986); moto sometimes returns them as plain JSON. */
export function parsePolicy(raw: string | undefined): PolicyDocument {
  const text = raw ?? "";
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = JSON.parse(decodeURIComponent(text));
  }
  if (typeof value !== "object" || value === null || !("Statement" in value)) {
    throw new Error("an IAM policy without a Statement element");
  }
  return value as PolicyDocument;
}
