import { describe, expect, test } from "bun:test";
import type { TerraformStack } from "cdktf";
import {
  ACCOUNT_REF,
  PARTITION,
  policyOf,
  REGION_REF,
  statement,
  synthesize,
} from "../test-support/modules/synth.ts";
import { Database } from "./database.ts";
import { EngineerAccess, type EngineerAccessProps } from "./engineer-access.ts";
import { JumpHost } from "./jumphost.ts";

const INSTANCE = `arn:${PARTITION}:ec2:us-east-1:123456789012:instance/i-0abc`;
const KEY = "arn:aws:kms:us-east-1:123456789012:key/k";
const DOCUMENT = "arn:aws:ssm:us-east-1:123456789012:document/dev-db-port-forwarding";
const common = { region: "us-east-1", accountId: "123456789012", securityGroupId: "sg-jump" };

/** The props, with a jump host and a database brought in by attributes (what the grants read). */
function props(stack: TerraformStack, overrides: Partial<EngineerAccessProps> = {}): EngineerAccessProps {
  return {
    namePrefix: "dev",
    region: "us-east-1",
    accountId: "123456789012",
    jumpHost: JumpHost.fromEc2Instance(stack, "jump", { ...common, instanceId: "i-0abc" }),
    database: Database.fromExisting(stack, "db", { identifier: "legacy", securityGroupId: "sg-db" }),
    databaseUsers: ["alice", "bob"],
    kmsKeyArn: KEY,
    session: { documentArns: [DOCUMENT] },
    ...overrides,
  };
}

describe("EngineerAccess", () => {
  const tf = synthesize((stack) => new EngineerAccess(stack, "access", props(stack)));
  const doc = policyOf(tf.one("aws_iam_policy"));

  test("StartSession only on the jump host and the stack's pinned Port document, with the document access check", () => {
    const starts = doc.Statement.filter((s) => JSON.stringify(s.Action).includes("ssm:StartSession"));
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({
      Action: "ssm:StartSession",
      Resource: [INSTANCE, DOCUMENT],
      Condition: { BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" } },
    });
  });

  test("terminate/resume only own sessions by their session-id tag; aws:userid escaped from Terraform interpolation", () => {
    expect(statement(doc, "ManageOwnSessionsOnly")).toMatchObject({
      Action: ["ssm:TerminateSession", "ssm:ResumeSession"],
      Resource: `arn:${PARTITION}:ssm:us-east-1:*:session/*`,
      Condition: { StringLike: { "ssm:resourceTag/aws:ssmmessages:session-id": "$${aws:userid}" } },
    });
    expect(JSON.stringify(doc)).not.toContain("AWS-StartPortForwardingSession");
  });

  test("a grant without a document is refused (no AWS-owned default)", () => {
    expect(() =>
      synthesize((s) => new EngineerAccess(s, "a", props(s, { session: { documentArns: [] } }))),
    ).toThrow("grantStartSession: documentArns is empty");
  });

  test("rds-db:connect for exactly the named users of this database", () => {
    const dbName = tf.data("aws_db_instance")[0]?.[0];
    const RESOURCE_ID = `\${data.aws_db_instance.${dbName}.resource_id}`;
    expect(statement(doc, "ConnectAsNamedDatabaseUsers").Resource).toEqual([
      `arn:${PARTITION}:rds-db:${REGION_REF}:${ACCOUNT_REF}:dbuser:${RESOURCE_ID}/alice`,
      `arn:${PARTITION}:rds-db:${REGION_REF}:${ACCOUNT_REF}:dbuser:${RESOURCE_ID}/bob`,
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
      `arn:${PARTITION}:rds:us-east-1:123456789012:db:*`,
      `arn:${PARTITION}:rds:us-east-1:123456789012:cluster:*`,
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
          ...props(s),
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
          ...props(s),
          jumpHost: JumpHost.fromEcsService(s, "ecs-jump", {
            ...common,
            clusterName: "dev-jumphost",
            serviceName: "dev-jumphost",
          }),
        }),
    );
    const ecsDoc = policyOf(ecs.one("aws_iam_policy"));
    expect(JSON.stringify(ecsDoc)).not.toContain("ec2:StartInstances");
    expect(statement(ecsDoc, "ListJumpHostTasks").Resource).toBe(
      `arn:${PARTITION}:ecs:us-east-1:123456789012:container-instance/dev-jumphost/*`,
    );
    expect(statement(ecsDoc, "ListJumpHostTasks").Condition).toEqual({
      ArnEquals: { "ecs:cluster": `arn:${PARTITION}:ecs:us-east-1:123456789012:cluster/dev-jumphost` },
    });
    expect(statement(ecsDoc, "DescribeJumpHostTasks").Resource).toBe(
      `arn:${PARTITION}:ecs:us-east-1:123456789012:task/dev-jumphost/*`,
    );
    // The session targets and the task look-ups name the same ARN, built once.
    expect(statement(ecsDoc, "StartPortForwardingToJumpHostOnly").Resource).toContain(
      statement(ecsDoc, "DescribeJumpHostTasks").Resource,
    );
  });

  test("invalid props name the construct, the field and the fix", () => {
    expect(() => synthesize((s) => new EngineerAccess(s, "a", props(s, { databaseUsers: [] })))).toThrow(
      /^EngineerAccess: databaseUsers is empty; name at least one/,
    );
    expect(() =>
      synthesize((s) => new EngineerAccess(s, "a", props(s, { role: { trustedPrincipalArns: [] } }))),
    ).toThrow(/EngineerAccess: role.trustedPrincipalArns is empty/);
  });
});

describe("grants", () => {
  test("a session document other than the default: StartSession names it instead", () => {
    const doc = policyOf(
      synthesize(
        (s) =>
          new EngineerAccess(s, "a", {
            ...props(s),
            session: { documentArns: ["arn:aws:ssm:us-east-1:123456789012:document/dev-db-port"] },
          }),
      ).one("aws_iam_policy"),
    );
    expect(statement(doc, "StartPortForwardingToJumpHostOnly").Resource).toEqual([
      INSTANCE,
      "arn:aws:ssm:us-east-1:123456789012:document/dev-db-port",
    ]);
  });

  test("grants added after the policy exists are in the synthesized document", () => {
    const doc = policyOf(
      synthesize((s) => {
        const access = new EngineerAccess(s, "a", props(s));
        access.addToPrincipalPolicy({
          Sid: "Later",
          Effect: "Allow",
          Action: "ssm:GetDocument",
          Resource: "*",
        });
      }).one("aws_iam_policy"),
    );
    expect(statement(doc, "Later").Action).toBe("ssm:GetDocument");
  });

  test("two different statements with one Sid are refused; the same grant twice is kept once", () => {
    synthesize((s) => {
      const p = props(s);
      const access = new EngineerAccess(s, "a", p);
      const other = JumpHost.fromEc2Instance(s, "jump-2", { ...common, instanceId: "i-0def" });
      expect(() => other.grantStartSession(access, { documentArns: [DOCUMENT] })).toThrow(
        /two different statements with Sid/,
      );
      const before = access.statements.length;
      p.database.grantConnect(access, p.databaseUsers);
      expect(access.statements.length).toBe(before);
    });
  });

  test("grantConnect refuses an empty or wildcard user list", () => {
    synthesize((s) => {
      const access = new EngineerAccess(s, "a", props(s));
      const db = Database.fromExisting(s, "db-2", { identifier: "other", securityGroupId: "sg-db" });
      expect(() => db.grantConnect(access, [])).toThrow(/grantConnect users is empty/);
      expect(() => db.grantConnect(access, ["*"])).toThrow(/includes "\*"/);
    });
  });
});
