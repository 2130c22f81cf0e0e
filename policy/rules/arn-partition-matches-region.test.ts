// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform JSON fixtures are full of ${...} expressions by design
import { describe, expect, test } from "bun:test";
import { expectCompliant, expectViolation } from "../fixtures/expect-rule.ts";
import { type MutableTf, secureStack, secureStackWith } from "../fixtures/secure-stack.ts";
import { arnPartitionMatchesRegion } from "./arn-partition-matches-region.ts";

const ID = arnPartitionMatchesRegion.id;
const inRegion = (region: string) => (tf: MutableTf) => {
  tf.provider.aws[0].region = region;
};

describe(`${ID} ${arnPartitionMatchesRegion.description}`, () => {
  test("compliant: the secure stack (eu-west-1, arn:aws: ARNs)", () => {
    expectCompliant(ID, secureStack());
  });

  test("compliant: GovCloud with ARNs built from the aws_partition data source", () => {
    const tf = secureStackWith((t) => {
      inRegion("us-gov-west-1")(t);
      const text = JSON.stringify(t.resource).replaceAll(
        "arn:aws:",
        "arn:${data.aws_partition.p.partition}:",
      );
      t.resource = JSON.parse(text);
    });
    expectCompliant(ID, tf);
  });

  test("compliant: a China stack with literal arn:aws-cn: ARNs", () => {
    const tf = secureStackWith((t) => {
      inRegion("cn-north-1")(t);
      t.resource = JSON.parse(JSON.stringify(t.resource).replaceAll("arn:aws:", "arn:aws-cn:"));
    });
    expectCompliant(ID, tf);
  });

  test("non-compliant: arn:aws: ARNs in a GovCloud stack, named per resource (also inside policy JSON)", () => {
    const tf = secureStackWith(inRegion("us-gov-west-1"));
    expectViolation(
      ID,
      tf,
      "aws_iam_policy.engineer",
      /names partition aws in us-gov-west-1, whose partition is aws-us-gov/,
    );
  });

  test("non-compliant: a GovCloud ARN in a China stack", () => {
    const tf = secureStackWith((t) => {
      inRegion("cn-north-1")(t);
      t.resource = JSON.parse(JSON.stringify(t.resource).replaceAll("arn:aws:", "arn:aws-cn:"));
      t.resource.aws_iam_policy.engineer.policy = t.resource.aws_iam_policy.engineer.policy.replace(
        "arn:aws-cn:ssm:",
        "arn:aws-us-gov:ssm:",
      );
    });
    expectViolation(ID, tf, "aws_iam_policy.engineer", /names partition aws-us-gov in cn-north-1/);
  });

  test("not-applicable: no literal provider region, or no ARN at all", () => {
    const noRegion = secureStackWith((t) => {
      t.provider.aws[0].region = "${var.region}";
    });
    expect(arnPartitionMatchesRegion.evaluate(noRegion).map((r) => r.status)).toEqual(["not-applicable"]);
    expect(
      arnPartitionMatchesRegion
        .evaluate({
          provider: { aws: [{ region: "us-east-1" }] },
          resource: { aws_vpc: { v: { cidr_block: "10.0.0.0/16" } } },
        })
        .map((r) => r.status),
    ).toEqual(["not-applicable"]);
  });
});
