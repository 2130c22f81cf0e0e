import { describe, expect, test } from "bun:test";
import { policyOf, statement, synthesize } from "../test-support/modules/synth.ts";
import { EngineerAccess, type EngineerAccessProps } from "./engineer-access.ts";

const INSTANCE = "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc";
const KEY = "arn:aws:kms:us-east-1:123456789012:key/k";
const base: EngineerAccessProps = {
  namePrefix: "dev",
  region: "us-east-1",
  accountId: "123456789012",
  jumpHostKind: "ec2",
  sessionTargetArns: [INSTANCE],
  instanceArn: INSTANCE,
  databaseResourceId: "db-ABCDEF",
  databaseUsers: ["alice", "bob"],
  kmsKeyArn: KEY,
};

describe("EngineerAccess", () => {
  const tf = synthesize((stack) => new EngineerAccess(stack, "access", base));
  const doc = policyOf(tf.one("aws_iam_policy"));

  test("StartSession only on the jump host and the port-forwarding document, with the document access check", () => {
    const starts = doc.Statement.filter((s) => JSON.stringify(s.Action).includes("ssm:StartSession"));
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({
      Action: "ssm:StartSession",
      Resource: [INSTANCE, "arn:aws:ssm:us-east-1::document/AWS-StartPortForwardingSessionToRemoteHost"],
      Condition: { BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" } },
    });
  });

  test("terminate/resume only own sessions; the aws:userid policy variable escaped from Terraform interpolation", () => {
    expect(statement(doc, "ManageOwnSessionsOnly")).toMatchObject({
      Action: ["ssm:TerminateSession", "ssm:ResumeSession"],
      Resource: "arn:aws:ssm:*:*:session/$${aws:userid}-*",
    });
  });

  test("rds-db:connect for exactly the named users of this database", () => {
    expect(statement(doc, "ConnectAsNamedDatabaseUsers").Resource).toEqual([
      "arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABCDEF/alice",
      "arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABCDEF/bob",
    ]);
  });

  test("StartInstances on the jump host only; GenerateDataKey on the stack key only", () => {
    expect(statement(doc, "StartStoppedJumpHost")).toMatchObject({
      Action: "ec2:StartInstances",
      Resource: INSTANCE,
    });
    expect(statement(doc, "EncryptSessionData")).toMatchObject({
      Action: "kms:GenerateDataKey",
      Resource: KEY,
    });
  });

  test("no wildcard actions; '*' resources only for calls without resource types", () => {
    for (const s of doc.Statement) {
      expect(JSON.stringify(s.Action)).not.toMatch(/"\*"|:\*"/);
      if (s.Resource === "*") {
        expect(["CliLookupsWithoutResourceTypes"]).toContain(s.Sid as string);
        expect(s.Action).toEqual([
          "ec2:DescribeInstances",
          "ssm:DescribeInstanceInformation",
          "tag:GetResources",
        ]);
      }
    }
    expect(statement(doc, "CliDescribesTheDatabase").Resource).toEqual([
      "arn:aws:rds:us-east-1:123456789012:db:*",
      "arn:aws:rds:us-east-1:123456789012:cluster:*",
    ]);
  });

  test("no role or group unless asked", () => {
    expect(tf.count("aws_iam_role")).toBe(0);
    expect(tf.count("aws_iam_group_policy_attachment")).toBe(0);
  });

  test("optional role requires MFA and gets the policy; optional group attachment", () => {
    const withRole = synthesize(
      (s) =>
        new EngineerAccess(s, "a", {
          ...base,
          role: { trustedPrincipalArns: ["arn:aws:iam::123456789012:root"] },
          groupName: "engineers",
        }),
    );
    const [trust] = policyOf(withRole.one("aws_iam_role"), "assume_role_policy").Statement;
    expect(trust).toMatchObject({
      Principal: { AWS: ["arn:aws:iam::123456789012:root"] },
      Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
    });
    expect(withRole.count("aws_iam_role_policy_attachment")).toBe(1);
    expect(withRole.one("aws_iam_group_policy_attachment").group).toBe("engineers");
  });

  test("ECS: task lookups scoped to the cluster, no StartInstances", () => {
    const ecs = synthesize(
      (s) =>
        new EngineerAccess(s, "a", {
          ...base,
          jumpHostKind: "ecs",
          instanceArn: undefined,
          ecsClusterName: "dev-jumphost",
          sessionTargetArns: ["arn:aws:ecs:us-east-1:123456789012:task/dev-jumphost/*"],
        }),
    );
    const ecsDoc = policyOf(ecs.one("aws_iam_policy"));
    expect(JSON.stringify(ecsDoc)).not.toContain("ec2:StartInstances");
    expect(statement(ecsDoc, "ListJumpHostTasks").Resource).toBe(
      "arn:aws:ecs:us-east-1:123456789012:container-instance/dev-jumphost/*",
    );
    expect(statement(ecsDoc, "ListJumpHostTasks").Condition).toEqual({
      ArnEquals: { "ecs:cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/dev-jumphost" },
    });
    expect(statement(ecsDoc, "DescribeJumpHostTasks").Resource).toBe(
      "arn:aws:ecs:us-east-1:123456789012:task/dev-jumphost/*",
    );
  });

  test("invalid props name the construct, the field and the fix", () => {
    expect(() => synthesize((s) => new EngineerAccess(s, "a", { ...base, databaseUsers: [] }))).toThrow(
      /^EngineerAccess: databaseUsers is empty; name at least one/,
    );
    expect(() => synthesize((s) => new EngineerAccess(s, "a", { ...base, instanceArn: undefined }))).toThrow(
      /EngineerAccess: instanceArn is missing/,
    );
    expect(() =>
      synthesize((s) => new EngineerAccess(s, "a", { ...base, role: { trustedPrincipalArns: [] } })),
    ).toThrow(/EngineerAccess: role.trustedPrincipalArns is empty/);
  });
});
