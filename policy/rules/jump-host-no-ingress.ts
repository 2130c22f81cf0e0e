import { defineRule, fail, ok } from "../define-rule.ts";
import { allSgRules, describeRule } from "../security-groups.ts";
import { jumpHostGroups, jumpHosts } from "../topology.ts";
import type { Finding } from "../types.ts";

/** The heart of the design: Session Manager needs no inbound path, so the jump host gets none. */
export const jumpHostNoIngress = defineRule({
  id: "DBT-INGRESS-1",
  description: "The jump host's security group has no ingress rule at all.",
  fix: "Remove every ingress rule (inline ingress, aws_security_group_rule type=ingress, aws_vpc_security_group_ingress_rule) from the jump host's security group; Session Manager needs none.",
  check: (tf) => {
    const hosts = jumpHosts(tf);
    if (hosts.length === 0) return [];
    const groups = jumpHostGroups(tf);
    if (groups.size === 0) {
      return hosts.map((h) =>
        fail(h.address, "the jump host has no security group of its own, so it gets the VPC default group"),
      );
    }
    const rules = allSgRules(tf).filter((r) => r.direction === "ingress");
    const findings: Finding[] = [];
    for (const group of groups) {
      const bad = rules.filter((r) => r.group === group);
      if (bad.length === 0) findings.push(ok(group, "jump host security group has no ingress rules"));
      for (const r of bad)
        findings.push(fail(r.declaredBy, `jump host security group ${group} has ${describeRule(r)}`));
    }
    return findings;
  },
});
