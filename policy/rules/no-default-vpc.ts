import { defineRule, fail, ok } from "../define-rule.ts";
import { dataSources, isTrue, resources } from "../tf-json.ts";
import type { Finding } from "../types.ts";

export const noDefaultVpc = defineRule({
  id: "CKV_AWS_148",
  aliases: ["AVD-AWS-0101"],
  description: "No default VPC is created or used.",
  fix: "Create a dedicated aws_vpc with private subnets instead of aws_default_vpc / data.aws_vpc { default = true }.",
  check: (tf) => {
    const findings: Finding[] = [
      ...resources(tf, "aws_default_vpc", "aws_default_subnet").map((b) =>
        fail(b.address, "the stack manages the default VPC"),
      ),
      ...dataSources(tf, "aws_vpc")
        .filter((b) => isTrue(b.body.default))
        .map((b) => fail(b.address, "the stack looks up and uses the default VPC")),
    ];
    if (findings.length > 0) return findings;
    return resources(tf, "aws_vpc").map((b) => ok(b.address, "dedicated VPC"));
  },
});
