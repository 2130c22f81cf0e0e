import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group/index.js";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key/index.js";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider/index.js";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group/index.js";
import { type App, Aspects, TerraformStack, Testing } from "cdktf";
import { SecurityPolicyAspect } from "./aspect.ts";
import { auditFile } from "./audit-file.ts";
import { PolicyError } from "./evaluate.ts";

const apps: App[] = [];
afterAll(() => {
  for (const app of apps) rmSync(app.outdir, { recursive: true, force: true });
});

/** A tiny real stack: a KMS key and an encrypted log group, with the key referenced as a token. */
function stack(insecure: boolean, aspect = new SecurityPolicyAspect()): App {
  const app = Testing.app();
  apps.push(app);
  const s = new TerraformStack(app, "policy-test");
  new AwsProvider(s, "aws", { region: "eu-west-1" });
  const key = new KmsKey(s, "key", {
    enableKeyRotation: !insecure,
    policy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::123456789012:root" },
          Action: "kms:*",
          Resource: "*",
        },
      ],
    }),
  });
  new CloudwatchLogGroup(s, "logs", { name: "/dbtunnel/test", kmsKeyId: key.arn, retentionInDays: 30 });
  if (insecure) {
    new SecurityGroup(s, "open", {
      vpcId: "vpc-123",
      ingress: [{ protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }],
    });
  }
  Aspects.of(s).add(aspect);
  return app;
}

function synthError(app: App): string {
  try {
    app.synth();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error("expected synth to fail");
}

describe("SecurityPolicyAspect", () => {
  test("app.synth() passes for a secure stack", () => {
    expect(() => stack(false).synth()).not.toThrow();
  });

  test("app.synth() fails listing rule id, resource and fix for an insecure stack", () => {
    const message = synthError(stack(true));
    expect(message).toContain(
      "CKV_AWS_24 aws_security_group.open: ingress tcp/22 from 0.0.0.0/0 opens 22 to the internet",
    );
    expect(message).toContain("Fix: Remove the 0.0.0.0/0");
    expect(message).toContain(
      "CKV_AWS_7 aws_kms_key.key: enable_key_rotation is not true. Fix: Set enable_key_rotation = true",
    );
  });

  test("Testing.synth with validations fails the same way", () => {
    const app = stack(true);
    const s = app.node.children.find((c): c is TerraformStack => TerraformStack.isStack(c));
    if (!s) throw new Error("no stack");
    expect(() => Testing.synth(s, true)).toThrow(/DBT-INGRESS-2 aws_security_group\.open/);
  });

  test("suppressions let a stack opt out of a rule", () => {
    const aspect = new SecurityPolicyAspect({
      suppressions: [
        { ruleId: "CKV_AWS_7", reason: "test key" },
        { ruleId: "CKV_AWS_24", reason: "test" },
        { ruleId: "DBT-INGRESS-2", reason: "test" },
      ],
    });
    expect(() => stack(true, aspect).synth()).not.toThrow();
  });

  test("suppressions are recorded in cdk.tf.json so auditing the file agrees with synth", () => {
    const suppressions = [
      { ruleId: "CKV_AWS_7", reason: "test key" },
      { ruleId: "CKV_AWS_24", reason: "test" },
      { ruleId: "DBT-INGRESS-2", reason: "test" },
    ];
    const app = stack(true, new SecurityPolicyAspect({ suppressions }));
    app.synth();
    const file = join(app.outdir, "stacks", "policy-test", "cdk.tf.json");
    expect(JSON.parse(readFileSync(file, "utf8"))["//"].dbtunnel_policy_suppressions).toEqual(suppressions);
    const report = auditFile(file);
    expect(report.violations).toEqual([]);
    expect(
      report.results
        .filter((r) => r.status === "suppressed")
        .map((r) => r.ruleId)
        .sort(),
    ).toEqual(["CKV_AWS_24", "CKV_AWS_7", "DBT-INGRESS-2"]);
  });

  test("a suppression without a reason fails when the aspect is created", () => {
    expect(() => new SecurityPolicyAspect({ suppressions: [{ ruleId: "CKV_AWS_7", reason: "" }] })).toThrow(
      PolicyError,
    );
  });

  test("visiting a stack twice registers one validation, so each violation is listed once", () => {
    const aspect = new SecurityPolicyAspect();
    const app = stack(true, aspect);
    const s = app.node.children.find((c): c is TerraformStack => TerraformStack.isStack(c));
    if (!s) throw new Error("no stack");
    aspect.visit(s);
    aspect.visit(s);
    expect(synthError(app).match(/CKV_AWS_24 aws_security_group\.open/g)).toHaveLength(1);
  });
});
