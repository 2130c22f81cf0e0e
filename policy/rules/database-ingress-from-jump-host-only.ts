import { defineRule, fail, ok } from "../define-rule.ts";
import { allSgRules, describeRule, exactlyPort } from "../security-groups.ts";
import { databasePort, databases, groupsOfDatabase, jumpHostGroups } from "../topology.ts";
import type { Finding } from "../types.ts";

export const databaseIngressFromJumpHostOnly = defineRule({
  id: "DBT-INGRESS-3",
  description:
    "The database security group admits only the jump host's security group, on the database port only.",
  fix: "Give the database its own security group whose only ingress is the database port from the jump host's security group (referenced_security_group_id), nothing else.",
  check: (tf) => {
    const jump = jumpHostGroups(tf);
    const ingress = allSgRules(tf).filter((r) => r.direction === "ingress");
    const findings: Finding[] = [];
    for (const db of databases(tf)) {
      const groups = groupsOfDatabase(db);
      const port = databasePort(db);
      if (groups.length === 0) {
        findings.push(
          fail(
            db.address,
            "the database has no security group of its own (it falls into the VPC default group)",
          ),
        );
        continue;
      }
      if (port === undefined) {
        findings.push(fail(db.address, "the database port is an expression; cannot verify the ingress port"));
        continue;
      }
      for (const group of groups) {
        const rules = ingress.filter((r) => r.group === group);
        const bad = rules.filter(
          (r) =>
            r.cidrs.length > 0 ||
            r.prefixLists.length > 0 ||
            r.peerGroups.length === 0 ||
            r.peerGroups.some((p) => !jump.has(p)) ||
            !exactlyPort(r, port),
        );
        for (const r of bad) {
          const why = jump.size === 0 ? " (no jump host tagged dbtunnel:role=jump-host was found)" : "";
          findings.push(
            fail(
              r.declaredBy,
              `database security group ${group} has ${describeRule(r)}; only tcp/${port} from the jump host group is allowed${why}`,
            ),
          );
        }
        if (bad.length === 0)
          findings.push(ok(group, `admits only tcp/${port} from the jump host security group`));
      }
    }
    return findings;
  },
});
