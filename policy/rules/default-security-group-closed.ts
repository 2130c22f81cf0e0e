import { defineRule, fail, ok } from "../define-rule.ts";
import { allSgRules } from "../security-groups.ts";
import { mentions, resources } from "../tf-json.ts";
import type { Finding } from "../types.ts";

/**
 * Terraform only empties the default group when the stack adopts it with aws_default_security_group;
 * otherwise AWS's allow-all-within-group rules stay in place for anything that lands in it.
 */
export const defaultSecurityGroupClosed = defineRule({
  id: "CKV2_AWS_12",
  aliases: ["AVD-AWS-0173"],
  description: "The VPC's default security group has no rules.",
  fix: "Adopt the VPC's default group with an aws_default_security_group that has no ingress and no egress blocks.",
  check: (tf) => {
    const defaults = resources(tf, "aws_default_security_group");
    const rules = allSgRules(tf);
    const findings: Finding[] = [];
    for (const vpc of resources(tf, "aws_vpc")) {
      const dsg = defaults.find((d) => mentions(d.body.vpc_id, vpc.address));
      if (!dsg) {
        findings.push(
          fail(vpc.address, "the default security group is not adopted, so it keeps AWS's allow rules"),
        );
      }
    }
    for (const dsg of defaults) {
      const own = rules.filter((r) => r.group === dsg.address);
      if (own.length > 0) {
        const by = [...new Set(own.map((r) => r.declaredBy))].join(", ");
        findings.push(
          fail(dsg.address, `the default security group has ${own.length} rule(s) (declared by ${by})`),
        );
      } else findings.push(ok(dsg.address, "default security group has no rules"));
    }
    return findings;
  },
});
