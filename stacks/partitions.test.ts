import { describe, expect, test } from "bun:test";
import { Testing } from "cdktf";
import { partitionOfRegion } from "../contract/partitions.ts";
import { evaluatePolicy } from "../policy/index.ts";
import { parseConfig, type StackConfig } from "./config.ts";
import { builtInSuppressions, SecureDbAccessStack } from "./secure-db-access-stack.ts";

/**
 * GovCloud and China: every ARN the stack synthesizes takes its partition from the aws_partition data
 * source (which the provider answers from the region), never a literal `arn:aws:`, so the same code is
 * right in `aws`, `aws-us-gov` and `aws-cn`; and the policy passes there.
 */
function synth(region: string, jumpHost: Record<string, unknown>) {
  const config = parseConfig({
    stacks: [
      {
        name: "dbtunnel-part",
        region,
        network: { cidr: "10.60.0.0/16", availabilityZones: [`${region}a`, `${region}b`] },
        jumpHost,
        database: { engine: "postgres", iamUsers: ["alice"] },
      },
    ],
  }).stacks[0] as StackConfig;
  const stack = new SecureDbAccessStack(Testing.app(), config.name, { config, enforcePolicy: false });
  const text = Testing.synth(stack);
  return { config, text, tf: JSON.parse(text) as Record<string, unknown> };
}

/** Every ARN in the synthesized JSON, also those inside JSON-encoded policy documents. */
function arnsIn(text: string): string[] {
  return [...new Set(text.replaceAll('\\"', '"').match(/arn:[^"\s,\]]+/g) ?? [])];
}

const PARTITION_REF = /^arn:\$\{data\.aws_partition\.[\w-]+\.partition\}:/;

for (const region of ["us-gov-west-1", "cn-north-1"]) {
  for (const jumpHost of [
    { kind: "ec2" },
    { kind: "ecs", containerImage: `123456789012.dkr.ecr.${region}.amazonaws.com/jump:1` },
  ]) {
    describe(`${region} (${partitionOfRegion(region)}), ${jumpHost.kind} jump host`, () => {
      const { config, text, tf } = synth(region, jumpHost);

      test("every ARN takes its partition from the aws_partition data source", () => {
        const arns = arnsIn(text);
        expect(arns.length).toBeGreaterThan(5);
        expect(arns.filter((arn) => !PARTITION_REF.test(arn))).toEqual([]);
        expect(text).not.toContain("arn:aws:");
      });

      test("regional service principals take the partition's DNS suffix (amazonaws.com.cn in China)", () => {
        expect(text).toContain(`logs.${region}.\${data.aws_partition.aws-partition.dns_suffix}`);
        expect(text).not.toContain(`logs.${region}.amazonaws.com`);
      });

      test("the provider answers the partition from the stack's region", () => {
        expect(Object.keys((tf.data as Record<string, object>).aws_partition ?? {})).toHaveLength(1);
        expect((tf.provider as { aws: { region: string }[] }).aws[0]?.region).toBe(region);
      });

      test("the stack passes every rule there, the partition rule included", () => {
        const report = evaluatePolicy(tf, { suppressions: builtInSuppressions(config, false) });
        expect(report.violations).toEqual([]);
        expect(report.results.filter((r) => r.ruleId === "DBT-ARN-1").map((r) => r.status)).toContain(
          "compliant",
        );
      });
    });
  }
}

test("a literal arn:aws: ARN from the config is caught in a GovCloud stack", () => {
  const config = parseConfig({
    stacks: [
      {
        name: "dbtunnel-part",
        region: "us-gov-west-1",
        network: { availabilityZones: ["us-gov-west-1a", "us-gov-west-1b"] },
        database: { iamUsers: ["alice"] },
        access: { role: { trustedPrincipalArns: ["arn:aws:iam::123456789012:root"] } },
      },
    ],
  }).stacks[0] as StackConfig;
  const stack = new SecureDbAccessStack(Testing.app(), config.name, { config, enforcePolicy: false });
  const report = evaluatePolicy(JSON.parse(Testing.synth(stack)), {
    suppressions: builtInSuppressions(config, false),
  });
  expect(report.violations.map((v) => `${v.ruleId} ${v.message}`)).toEqual([
    expect.stringMatching(/^DBT-ARN-1 names partition aws in us-gov-west-1, whose partition is aws-us-gov$/),
  ]);
});
