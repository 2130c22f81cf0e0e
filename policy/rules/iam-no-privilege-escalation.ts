import { defineRule, fail, ok } from "../define-rule.ts";
import { describeStatement, documentsOfKind, grants, label } from "../iam-documents.ts";
import type { Finding } from "../types.ts";

/** checkov's CKV_AWS_286..290 families, reduced to the actions that matter when granted on "*". */
const RISKY: readonly [string, readonly string[]][] = [
  [
    "privilege escalation",
    [
      "iam:AttachGroupPolicy",
      "iam:AttachRolePolicy",
      "iam:AttachUserPolicy",
      "iam:CreatePolicyVersion",
      "iam:SetDefaultPolicyVersion",
      "iam:PassRole",
      "iam:PutGroupPolicy",
      "iam:PutRolePolicy",
      "iam:PutUserPolicy",
      "iam:UpdateAssumeRolePolicy",
      "iam:AddUserToGroup",
      "iam:CreateLoginProfile",
      "iam:UpdateLoginProfile",
      "lambda:UpdateFunctionCode",
      "glue:UpdateDevEndpoint",
      "cloudformation:CreateStack",
    ],
  ],
  [
    "data exfiltration",
    [
      "s3:GetObject",
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:GetParametersByPath",
      "secretsmanager:GetSecretValue",
      "kms:Decrypt",
    ],
  ],
  [
    "permissions management",
    [
      "iam:CreatePolicy",
      "iam:DeletePolicy",
      "iam:CreateRole",
      "iam:DeleteRolePolicy",
      "iam:DetachRolePolicy",
      "iam:TagRole",
      "s3:PutBucketPolicy",
      "kms:PutKeyPolicy",
      "kms:CreateGrant",
    ],
  ],
  [
    "unconstrained write",
    [
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:DeleteBucket",
      "rds:DeleteDBInstance",
      "rds:ModifyDBInstance",
      "ec2:RunInstances",
      "ec2:AuthorizeSecurityGroupIngress",
      "ssm:SendCommand",
      "ssm:StartSession",
    ],
  ],
  [
    "credentials exposure",
    [
      "iam:CreateAccessKey",
      "iam:UpdateAccessKey",
      "sts:GetFederationToken",
      "sts:AssumeRole",
      "ecr:GetAuthorizationToken",
      "redshift:GetClusterCredentials",
      "rds-db:connect",
    ],
  ],
];

export const iamNoPrivilegeEscalation = defineRule({
  id: "CKV_AWS_286",
  aliases: ["CKV_AWS_287", "CKV_AWS_288", "CKV_AWS_289", "CKV_AWS_290"],
  description:
    "No IAM statement allows privilege escalation, exfiltration, permissions management, unconstrained write or credential exposure on *.",
  fix: "Scope the risky actions to specific resources (and add conditions), or remove them.",
  check: (tf) =>
    documentsOfKind(tf, "identity").map((doc): Finding => {
      if (!doc.statements)
        return fail(doc.owner, `${label(doc)} cannot be read (e.g. jsonencode), so it cannot be verified`);
      for (const [i, s] of doc.statements.entries()) {
        if (s.effect !== "Allow") continue;
        const onAll = s.resources.includes("*") || s.notResources.length > 0;
        if (!onAll) continue;
        for (const [family, actions] of RISKY) {
          const hit = actions.find((a) => grants(s, a));
          if (hit)
            return fail(doc.owner, `${label(doc)} ${describeStatement(s, i)} allows ${hit} on * (${family})`);
        }
      }
      return ok(doc.owner, `${label(doc)} grants no risky action on *`);
    }),
});
