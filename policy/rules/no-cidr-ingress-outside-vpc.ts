import { ipv4Within, parseIpv4Cidr } from "../cidr.ts";
import { defineRule, fail, ok } from "../define-rule.ts";
import { allGroups, allSgRules, describeRule } from "../security-groups.ts";
import { asString, exactReference, resources } from "../tf-json.ts";
import type { Finding, TerraformJson } from "../types.ts";

function vpcCidrs(tf: TerraformJson): string[] {
  return [
    ...resources(tf, "aws_vpc").map((v) => asString(v.body.cidr_block)),
    ...resources(tf, "aws_vpc_ipv4_cidr_block_association").map((v) => asString(v.body.cidr_block)),
  ].filter((c): c is string => c !== undefined && parseIpv4Cidr(c) !== undefined);
}

/** A CIDR is inside the VPC when it is a reference to a VPC/subnet CIDR or a literal inside a VPC CIDR. */
function insideVpc(cidr: string, vpc: string[]): boolean {
  const ref = exactReference(cidr);
  if (ref)
    return (
      /^aws_(vpc|subnet|vpc_ipv4_cidr_block_association)\./.test(ref.address) &&
      /cidr_block$/.test(ref.attribute ?? "")
    );
  return vpc.some((v) => ipv4Within(cidr, v));
}

export const noCidrIngressOutsideVpc = defineRule({
  id: "DBT-INGRESS-2",
  description:
    "No security group admits a CIDR outside the VPC; ingress is only allowed by security-group reference.",
  fix: "Replace CIDR-based ingress with a rule that references the peer security group (referenced_security_group_id); never admit 0.0.0.0/0, ::/0 or public ranges.",
  check: (tf) => {
    const vpc = vpcCidrs(tf);
    const ingress = allSgRules(tf).filter((r) => r.direction === "ingress");
    const findings: Finding[] = [];
    const offending = new Set<string>();
    for (const r of ingress) {
      const outside = r.cidrs.filter((c) => !insideVpc(c, vpc));
      if (outside.length === 0) continue;
      offending.add(r.group);
      findings.push(fail(r.declaredBy, `${describeRule(r)} admits ${outside.join(", ")}, outside the VPC`));
    }
    for (const g of allGroups(tf)) {
      if (!offending.has(g.address)) findings.push(ok(g.address, "no ingress from CIDRs outside the VPC"));
    }
    return findings;
  },
});
