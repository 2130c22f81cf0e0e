import { IamGroupPolicyAttachment } from "@cdktf/provider-aws/lib/iam-group-policy-attachment";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { type PolicyStatement, policyDocument } from "./iam-document.ts";
import { InvalidPropsError } from "./props-error.ts";

/** AWS-owned document for forwarding to a remote host; AWS documents have an empty account field. */
export const PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost";

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
  /** "ec2" allows StartInstances on the host; "ecs" allows ListTasks/DescribeTasks on its cluster. */
  readonly jumpHostKind: "ec2" | "ecs";
  /** ARNs of session targets: the instance, or `arn:aws:ecs:<region>:<account>:task/<cluster>/*`. */
  readonly sessionTargetArns: readonly string[];
  /** EC2 jump host ARN (for ec2:StartInstances). Required for kind "ec2". */
  readonly instanceArn?: string;
  /** ECS cluster name (for the task lookups). Required for kind "ecs". */
  readonly ecsClusterName?: string;
  /** DbiResourceId (cluster resource id for Aurora). */
  readonly databaseResourceId: string;
  /** Database users the engineers may log in as with an IAM token. */
  readonly databaseUsers: readonly string[];
  /** Stack key: engineers need kms:GenerateDataKey for KMS-encrypted sessions. */
  readonly kmsKeyArn: string;
  /** Also create a role with the policy. @default no role */
  readonly role?: EngineerRoleProps;
  /** Attach the policy to this existing IAM group. @default not attached */
  readonly groupName?: string;
}

/**
 * Managed policy for engineers (optionally attached to a new role and/or an existing group), exactly
 * the permissions `dbtunnel connect` needs: StartSession on the jump host with the port-forwarding
 * document only, terminate/resume of their own sessions, rds-db:connect as the named users, the
 * look-ups the CLI makes, starting the stopped EC2 host, and the session data key.
 */
export class EngineerAccess extends Construct {
  readonly policy: IamPolicy;
  readonly role?: IamRole;

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
    if (props.jumpHostKind === "ec2" && !props.instanceArn) {
      throw new InvalidPropsError(
        "EngineerAccess",
        "instanceArn",
        "is missing for an ec2 jump host",
        "pass the jump host's instance ARN",
      );
    }
    if (props.jumpHostKind === "ecs" && !props.ecsClusterName) {
      throw new InvalidPropsError(
        "EngineerAccess",
        "ecsClusterName",
        "is missing for an ecs jump host",
        "pass the jump host's cluster name",
      );
    }
    this.policy = new IamPolicy(this, "policy", {
      name: `${props.namePrefix}-engineer-access`,
      description: `dbtunnel: port-forward to the ${props.namePrefix} database through Session Manager`,
      policy: policyDocument(engineerStatements(props)),
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
}

/** Exported for tests: the statements of the engineer policy. */
export function engineerStatements(props: EngineerAccessProps): PolicyStatement[] {
  const { region, accountId } = props;
  const statements: PolicyStatement[] = [
    {
      Sid: "StartPortForwardingToJumpHostOnly",
      Effect: "Allow",
      Action: "ssm:StartSession",
      Resource: [...props.sessionTargetArns, `arn:aws:ssm:${region}::document/${PORT_FORWARDING_DOCUMENT}`],
      Condition: { BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" } },
    },
    {
      // "$${" reaches IAM as the literal policy variable ${aws:userid} (Terraform would interpolate "${").
      Sid: "ManageOwnSessionsOnly",
      Effect: "Allow",
      Action: ["ssm:TerminateSession", "ssm:ResumeSession"],
      Resource: "arn:aws:ssm:*:*:session/$${aws:userid}-*",
    },
    {
      Sid: "ConnectAsNamedDatabaseUsers",
      Effect: "Allow",
      Action: "rds-db:connect",
      Resource: props.databaseUsers.map(
        (user) => `arn:aws:rds-db:${region}:${accountId}:dbuser:${props.databaseResourceId}/${user}`,
      ),
    },
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
      Resource: [`arn:aws:rds:${region}:${accountId}:db:*`, `arn:aws:rds:${region}:${accountId}:cluster:*`],
    },
    { Sid: "EncryptSessionData", Effect: "Allow", Action: "kms:GenerateDataKey", Resource: props.kmsKeyArn },
  ];
  if (props.jumpHostKind === "ec2") {
    statements.push({
      Sid: "StartStoppedJumpHost",
      Effect: "Allow",
      Action: "ec2:StartInstances",
      Resource: props.instanceArn ?? "",
    });
  } else {
    const cluster = `arn:aws:ecs:${region}:${accountId}:cluster/${props.ecsClusterName ?? ""}`;
    statements.push(
      {
        // IAM authorizes ListTasks against container-instance ARNs plus the ecs:cluster condition
        // (ECS identity-based policy examples); both pin it to the jump host's cluster.
        Sid: "ListJumpHostTasks",
        Effect: "Allow",
        Action: "ecs:ListTasks",
        Resource: `arn:aws:ecs:${region}:${accountId}:container-instance/${props.ecsClusterName ?? ""}/*`,
        Condition: { ArnEquals: { "ecs:cluster": cluster } },
      },
      {
        Sid: "DescribeJumpHostTasks",
        Effect: "Allow",
        Action: "ecs:DescribeTasks",
        Resource: `arn:aws:ecs:${region}:${accountId}:task/${props.ecsClusterName ?? ""}/*`,
      },
    );
  }
  return statements;
}
