import { defineRule, fail, ok } from "../define-rule.ts";
import { allGroups, allPorts, allSgRules, coversPort, describeRule, isOpenCidr } from "../security-groups.ts";
import type { Finding } from "../types.ts";

const WATCHED = [22, 3389, 80] as const;

export const noOpenAdminIngress = defineRule({
  id: "CKV_AWS_24",
  aliases: ["CKV_AWS_25", "CKV_AWS_260", "CKV_AWS_277", "AVD-AWS-0107"],
  description: "No 0.0.0.0/0 or ::/0 ingress to 22, 3389, 80 or all ports.",
  fix: "Remove the 0.0.0.0/0 / ::/0 ingress rule; with Session Manager no port needs to be open to the internet.",
  check: (tf) => {
    const findings: Finding[] = [];
    const offending = new Set<string>();
    for (const r of allSgRules(tf)) {
      if (r.direction !== "ingress" || !r.cidrs.some(isOpenCidr)) continue;
      const hits = allPorts(r) ? ["all ports"] : WATCHED.filter((p) => coversPort(r, p)).map(String);
      if (hits.length === 0) continue;
      offending.add(r.group);
      findings.push(fail(r.declaredBy, `${describeRule(r)} opens ${hits.join(", ")} to the internet`));
    }
    for (const g of allGroups(tf)) {
      if (!offending.has(g.address))
        findings.push(ok(g.address, "no internet ingress to 22, 3389, 80 or all ports"));
    }
    return findings;
  },
});
