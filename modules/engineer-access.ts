import { IamGroupPolicyAttachment } from "@cdktf/provider-aws/lib/iam-group-policy-attachment";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { arn } from "./aws-context.ts";
import type { IDatabase } from "./database-interface.ts";
import { type IPrincipal, PrincipalPolicy } from "./grant.ts";
import { type PolicyStatement, policyDocument } from "./iam-document.ts";
import type { IJumpHost, StartSessionGrantOptions } from "./jumphost-interface.ts";
import { InvalidPropsError } from "./props-error.ts";

export interface EngineerRoleProps {
  /** Principals (ARNs) that may assume the role, e.g. an SSO permission-set role or the account root. */
  readonly trustedPrincipalArns: readonly string[];
  /** Require MFA on AssumeRole. @default true */
  readonly requireMfa?: boolean;
  /** Maximum session length in seconds. @default 3600 */
  readonly maxSessionDurationSeconds?: number;
}

export interface EngineerAccessProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  /** The host engineers start sessions on (EC2 instance or ECS service). */
  readonly jumpHost: IJumpHost;
  /** The database engineers log in to. */
  readonly database: IDatabase;
  /** Database users the engineers may log in as with an IAM token. */
  readonly databaseUsers: readonly string[];
  /** Stack key: engineers need kms:GenerateDataKey for KMS-encrypted sessions. */
  readonly kmsKeyArn: string;
  /**
   * The documents engineers may start sessions with: the stack's pinned Port document
   * (PortForwardingDocument), never an AWS-owned forwarding document (host and port free).
   */
  readonly session: StartSessionGrantOptions;
  /** Also create a role with the policy. @default no role */
  readonly role?: EngineerRoleProps;
  /** Attach the policy to this existing IAM group. @default not attached */
  readonly groupName?: string;
}

/**
 * Managed policy for engineers (optionally attached to a new role and/or an existing group), exactly
 * the permissions `dbtunnel connect` needs, composed from the other constructs' grants: the jump host's
 * StartSession (the stack's pinned Port document only, own sessions only by their session-id tag) and find-and-start, the database's
 * rds-db:connect as the named users, plus the look-ups the CLI makes and the session data key.
 * It is itself an IPrincipal: more grants may be added to it (`jumpHost.grantStartSession(access, { documentArns })`).
 */
export class EngineerAccess extends Construct implements IPrincipal {
  readonly policy: IamPolicy;
  readonly role?: IamRole;
  private readonly document: PrincipalPolicy;

  constructor(scope: Construct, id: string, props: EngineerAccessProps) {
    super(scope, id);
    if (props.databaseUsers.length === 0) {
      throw new InvalidPropsError(
        "EngineerAccess",
        "databaseUsers",
        "is empty",
        "name at least one database user the engineers log in as",
      );
    }
    this.document = new PrincipalPolicy("EngineerAccess");
    // The order of the statements in the document: session, database, CLI look-ups, key, waking the host.
    props.jumpHost.grantStartSession(this, props.session);
    props.database.grantConnect(this, props.databaseUsers);
    for (const statement of cliStatements(this, props)) this.addToPrincipalPolicy(statement);
    props.jumpHost.grantFindAndStart(this);

    this.policy = new IamPolicy(this, "policy", {
      name: `${props.namePrefix}-engineer-access`,
      description: `dbtunnel: port-forward to the ${props.namePrefix} database through Session Manager`,
      policy: this.document.document,
    });
    if (props.role) {
      if (props.role.trustedPrincipalArns.length === 0) {
        throw new InvalidPropsError(
          "EngineerAccess",
          "role.trustedPrincipalArns",
          "is empty",
          "name the principals that may assume the engineer role",
        );
      }
      this.role = new IamRole(this, "role", {
        name: `${props.namePrefix}-engineer`,
        maxSessionDuration: props.role.maxSessionDurationSeconds ?? 3600,
        assumeRolePolicy: policyDocument([
          {
            Effect: "Allow",
            Principal: { AWS: [...props.role.trustedPrincipalArns] },
            Action: "sts:AssumeRole",
            ...((props.role.requireMfa ?? true)
              ? { Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } }
              : {}),
          },
        ]),
      });
      new IamRolePolicyAttachment(this, "role-policy", { role: this.role.name, policyArn: this.policy.arn });
    }
    if (props.groupName) {
      new IamGroupPolicyAttachment(this, "group-policy", {
        group: props.groupName,
        policyArn: this.policy.arn,
      });
    }
  }

  addToPrincipalPolicy(statement: PolicyStatement): void {
    this.document.addToPrincipalPolicy(statement);
  }

  /** The statements of the engineer policy so far (for tests and reviews). */
  get statements(): readonly PolicyStatement[] {
    return this.document.statementsSoFar;
  }
}

/** What the CLI looks up besides the grants of the jump host and the database, and the session key. */
function cliStatements(scope: Construct, props: EngineerAccessProps): PolicyStatement[] {
  const rds = (resource: string) =>
    arn(scope, { service: "rds", region: props.region, account: props.accountId, resource });
  return [
    {
      // These describe/list calls support no resource-level permissions in IAM: "*" is the only option.
      Sid: "CliLookupsWithoutResourceTypes",
      Effect: "Allow",
      Action: ["ec2:DescribeInstances", "ssm:DescribeInstanceInformation", "tag:GetResources"],
      Resource: "*",
    },
    {
      // Both calls even for a single instance: tag discovery (no outputs file) lists instances and clusters.
      Sid: "CliDescribesTheDatabase",
      Effect: "Allow",
      Action: ["rds:DescribeDBInstances", "rds:DescribeDBClusters"],
      Resource: [rds("db:*"), rds("cluster:*")],
    },
    { Sid: "EncryptSessionData", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: props.kmsKeyArn },
  ];
}
