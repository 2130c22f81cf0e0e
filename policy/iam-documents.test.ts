// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform expressions under test
import { describe, expect, test } from "bun:test";
import { actionMatches, allDocuments, grants, readDocument } from "./iam-documents.ts";

describe("IAM documents", () => {
  test("JSON strings: single values, bare * principal, conditions with several keys", () => {
    const { statements } = readDocument(
      {},
      JSON.stringify({
        Statement: {
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: "arn:aws:s3:::b/*",
          Condition: {
            Bool: { "aws:SecureTransport": true },
            StringEquals: { "aws:PrincipalOrgID": ["o-1", "o-2"] },
          },
        },
      }),
    );
    expect(statements).toEqual([
      {
        sid: undefined,
        effect: "Allow",
        actions: ["s3:GetObject"],
        notActions: [],
        resources: ["arn:aws:s3:::b/*"],
        notResources: [],
        principals: [{ type: "*", identifiers: ["*"] }],
        notPrincipals: [],
        conditions: [
          { test: "Bool", variable: "aws:SecureTransport", values: ["true"] },
          { test: "StringEquals", variable: "aws:PrincipalOrgID", values: ["o-1", "o-2"] },
        ],
      },
    ]);
  });

  test("jsonencode, other expressions and merged data documents cannot be verified", () => {
    expect(readDocument({}, "${jsonencode({Statement = []})}").statements).toBeUndefined();
    expect(readDocument({}, "${var.policy}").statements).toBeUndefined();
    const tf = {
      data: { aws_iam_policy_document: { m: { source_policy_documents: ["x"], statement: [] } } },
    };
    expect(readDocument(tf, "${data.aws_iam_policy_document.m.json}").statements).toBeUndefined();
    expect(readDocument({}, "${data.aws_iam_policy_document.missing.json}").statements).toBeUndefined();
  });

  test("every place a policy can live is collected with its kind", () => {
    const doc = JSON.stringify({ Statement: [] });
    const tf = {
      resource: {
        aws_iam_policy: { p: { policy: doc } },
        aws_iam_role_policy: { rp: { policy: doc } },
        aws_iam_role: { r: { assume_role_policy: doc, inline_policy: [{ name: "i", policy: doc }] } },
        aws_kms_key: { k: { policy: doc } },
        aws_s3_bucket_policy: { b: { policy: doc } },
      },
    };
    expect(allDocuments(tf).map((d) => `${d.kind} ${d.owner} ${d.attribute}`)).toEqual([
      "identity aws_iam_policy.p policy",
      "identity aws_iam_role_policy.rp policy",
      "trust aws_iam_role.r assume_role_policy",
      "identity aws_iam_role.r inline_policy[0].policy",
      "resource aws_kms_key.k policy",
      "resource aws_s3_bucket_policy.b policy",
    ]);
  });

  test("action wildcards and NotAction", () => {
    expect(actionMatches("ssm:Start*", "ssm:StartSession")).toBe(true);
    expect(actionMatches("SSM:startsession", "ssm:StartSession")).toBe(true);
    expect(actionMatches("ssm:Start*", "ssm:TerminateSession")).toBe(false);
    expect(actionMatches("ec2:Describe.*", "ec2:DescribeX")).toBe(false);
    const base = {
      sid: undefined,
      resources: ["*"],
      notResources: [],
      principals: [],
      notPrincipals: [],
      conditions: [],
    };
    expect(grants({ ...base, effect: "Allow", actions: [], notActions: ["iam:*"] }, "ssm:StartSession")).toBe(
      true,
    );
    expect(grants({ ...base, effect: "Deny", actions: ["*"], notActions: [] }, "ssm:StartSession")).toBe(
      false,
    );
  });
});
