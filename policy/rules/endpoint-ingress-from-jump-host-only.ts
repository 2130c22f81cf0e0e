import { defineRule, fail, ok } from "../define-rule.ts";
import { allSgRules, describeRule, exactlyPort } from "../security-groups.ts";
import { endpointGroups, jumpHostGroups } from "../topology.ts";
import type { Finding } from "../types.ts";

export const endpointIngressFromJumpHostOnly = defineRule({
  id: "DBT-INGRESS-4",
  description: "The VPC-endpoint security group admits only the jump host's security group, on 443 only.",
  fix: "Give the interface endpoints a security group whose only ingress is tcp/443 from the jump host's security group (referenced_security_group_id).",
  check: (tf) => {
    const jump = jumpHostGroups(tf);
    const ingress = allSgRules(tf).filter((r) => r.direction === "ingress");
    const findings: Finding[] = [];
    for (const group of endpointGroups(tf)) {
      const rules = ingress.filter((r) => r.group === group);
      const bad = rules.filter(
        (r) =>
          r.cidrs.length > 0 ||
          r.prefixLists.length > 0 ||
          r.peerGroups.length === 0 ||
          r.peerGroups.some((p) => !jump.has(p)) ||
          !exactlyPort(r, 443),
      );
      for (const r of bad) {
        findings.push(
          fail(
            r.declaredBy,
            `endpoint security group ${group} has ${describeRule(r)}; only tcp/443 from the jump host group is allowed`,
          ),
        );
      }
      if (bad.length === 0) findings.push(ok(group, "admits only tcp/443 from the jump host security group"));
    }
    return findings;
  },
});
