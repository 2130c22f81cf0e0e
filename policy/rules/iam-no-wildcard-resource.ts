import { defineRule, fail, ok } from "../define-rule.ts";
import { actionMatches, describeStatement, documentsOfKind, label } from "../iam-documents.ts";
import type { Finding } from "../types.ts";

/**
 * Actions that have no resource-level permissions, so "*" is the only valid resource. Each is here because
 * a dbtunnel role needs it: the CLI finds the jump host and database (Describe*), the SSM agent talks to
 * its channels (ssmmessages/ec2messages), an engineer checks the agent is online (GetConnectionStatus), and
 * an ECS jump host's execution role logs in to ECR (GetAuthorizationToken has no resource-level permission;
 * CKV_AWS_286 still reports it as credential exposure).
 */
export const RESOURCELESS_ACTIONS: readonly string[] = [
  "ec2:Describe*",
  "ssm:DescribeInstanceInformation",
  "ssm:DescribeSessions",
  "ssm:DescribeInstanceProperties",
  "ssm:GetConnectionStatus",
  "ssm:UpdateInstanceInformation",
  "ssm:ListInstanceAssociations",
  "ssm:ListAssociations",
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
  "ec2messages:AcknowledgeMessage",
  "ec2messages:DeleteMessage",
  "ec2messages:FailMessage",
  "ec2messages:GetEndpoint",
  "ec2messages:GetMessages",
  "ec2messages:SendReply",
  "ecs:ListClusters",
  "ecr:GetAuthorizationToken",
  "rds:DescribeDBInstances",
  "rds:DescribeDBClusters",
  "sts:GetCallerIdentity",
  "tag:GetResources",
  "kms:ListAliases",
  "logs:DescribeLogGroups",
];

function resourceless(action: string): boolean {
  // The action pattern must be covered entirely by an allow-listed entry (ec2:DescribeInstances by ec2:Describe*).
  return RESOURCELESS_ACTIONS.some((allowed) => actionMatches(allowed, action));
}

export const iamNoWildcardResource = defineRule({
  id: "CKV_AWS_355",
  aliases: ["CKV_AWS_356"],
  description:
    'No "*" resource on actions that support resource scoping (a short allow-list of resource-less describe/channel calls excepted).',
  fix: "Scope the statement to the ARNs it needs (jump host, document, database user, key, log group); only resource-less calls such as ssm:DescribeInstanceInformation may use *.",
  check: (tf) =>
    documentsOfKind(tf, "identity").map((doc): Finding => {
      if (!doc.statements)
        return fail(doc.owner, `${label(doc)} cannot be read (e.g. jsonencode), so it cannot be verified`);
      for (const [i, s] of doc.statements.entries()) {
        if (s.effect !== "Allow" || !s.resources.includes("*")) continue;
        const scoped = s.notActions.length > 0 ? ["NotAction"] : s.actions.filter((a) => !resourceless(a));
        if (scoped.length > 0)
          return fail(doc.owner, `${label(doc)} ${describeStatement(s, i)} allows ${scoped.join(", ")} on *`);
      }
      return ok(doc.owner, `${label(doc)} scopes resources`);
    }),
});
