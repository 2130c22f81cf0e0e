import { defineRule, fail, ok } from "../define-rule.ts";
import {
  allGroups,
  allPorts,
  allSgRules,
  describeRule,
  exactlyPort,
  isOpenCidr,
  type SgRule,
} from "../security-groups.ts";
import { exactReference } from "../tf-json.ts";
import { databasePort, databases, endpointGroups, groupsOfDatabase, jumpHostGroups } from "../topology.ts";
import type { Finding, TerraformJson } from "../types.ts";

/** An S3 prefix list: `data.aws_prefix_list.*`, `aws_vpc_endpoint.*.prefix_list_id` or a literal pl- id. */
function isPrefixList(v: string): boolean {
  const ref = exactReference(v);
  if (ref)
    return (
      ref.address.startsWith("data.aws_prefix_list.") ||
      (ref.address.startsWith("aws_vpc_endpoint.") && ref.attribute === "prefix_list_id") ||
      ref.address.startsWith("data.aws_ec2_managed_prefix_list.")
    );
  return /^pl-[0-9a-f]+$/.test(v);
}

/** `${data.aws_db_instance.x.port}` and friends: the port of a database the stack uses but does not create. */
const DATABASE_PORT_REFERENCE = /^(data\.)?aws_(db_instance|rds_cluster)\.[^.]+\.port$/;

function allowedEgress(r: SgRule, endpoints: Set<string>, dbPorts: Map<string, number>): boolean {
  if (r.cidrs.length > 0) return false;
  if (r.peerGroups.length === 0 && r.prefixLists.length === 0) return false;
  if (exactlyPort(r, 443))
    return r.peerGroups.every((g) => endpoints.has(g)) && r.prefixLists.every(isPrefixList);
  if (r.prefixLists.length > 0) return false;
  // An existing database: its group is the user's (a literal id); the port must be that database's port.
  if (r.protocol === "tcp" && r.portReference !== undefined && DATABASE_PORT_REFERENCE.test(r.portReference))
    return r.peerGroups.every((g) => dbPorts.has(g) || /^sg-[0-9a-f]+$/.test(g));
  return r.peerGroups.every((g) => {
    const port = dbPorts.get(g);
    return port !== undefined && exactlyPort(r, port);
  });
}

function databasePorts(tf: TerraformJson): Map<string, number> {
  const ports = new Map<string, number>();
  for (const db of databases(tf)) {
    const port = databasePort(db);
    if (port !== undefined) for (const g of groupsOfDatabase(db)) ports.set(g, port);
  }
  return ports;
}

/**
 * No IAM condition restricts where a port-forwarding session may go: the jump host's egress is the only
 * thing that limits it, so it must name exactly the endpoints and the database.
 */
export const jumpHostEgressRestricted = defineRule({
  id: "DBT-HOST-2",
  aliases: ["CKV_AWS_382", "AVD-AWS-0104"],
  description:
    "Jump host egress is limited to 443 to the endpoint group / S3 prefix list and the database port to the database group; no group allows all egress to 0.0.0.0/0.",
  fix: "Replace the jump host's egress with tcp/443 to the endpoint security group (and S3 prefix list) and tcp/<db port> to the database security group; remove any allow-all egress to 0.0.0.0/0 or ::/0.",
  check: (tf) => {
    const findings: Finding[] = [];
    const rules = allSgRules(tf).filter((r) => r.direction === "egress");
    const jump = jumpHostGroups(tf);
    const endpoints = endpointGroups(tf);
    const dbPorts = databasePorts(tf);
    const failed = new Set<string>();
    for (const r of rules) {
      if (jump.has(r.group)) {
        if (!allowedEgress(r, endpoints, dbPorts)) {
          failed.add(r.group);
          findings.push(fail(r.declaredBy, `jump host group ${r.group} has ${describeRule(r)}`));
        }
      } else if (allPorts(r) && r.cidrs.some(isOpenCidr)) {
        failed.add(r.group);
        findings.push(fail(r.declaredBy, `${describeRule(r)}: all egress to the internet`));
      }
    }
    const groups = new Set([...allGroups(tf).map((g) => g.address), ...jump]);
    for (const g of groups) {
      if (!failed.has(g))
        findings.push(
          ok(
            g,
            jump.has(g)
              ? "jump host egress limited to endpoints and database"
              : "no allow-all egress to the internet",
          ),
        );
    }
    return findings;
  },
});
