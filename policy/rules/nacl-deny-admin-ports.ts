import { defineRule, fail, ok } from "../define-rule.ts";
import { asNumber, asObjects, asString, isTrue, mentions, resources, type TfObject } from "../tf-json.ts";
import { publicSubnets } from "../topology.ts";
import type { Finding } from "../types.ts";

const ADMIN_PORTS = [22, 3389] as const;

interface AclEntry {
  readonly ruleNo: number;
  readonly allow: boolean;
  readonly protocol: string;
  readonly from: number;
  readonly to: number;
}

function entry(ruleNo: unknown, action: unknown, protocol: unknown, from: unknown, to: unknown): AclEntry {
  return {
    ruleNo: asNumber(ruleNo) ?? Number.MAX_SAFE_INTEGER,
    allow: (asString(action) ?? "").toLowerCase() === "allow",
    protocol: (asString(protocol) ?? "-1").toLowerCase(),
    from: asNumber(from) ?? 0,
    to: asNumber(to) ?? 65535,
  };
}

function inlineEntries(body: TfObject): AclEntry[] {
  return asObjects(body.ingress).map((e) => entry(e.rule_no, e.action, e.protocol, e.from_port, e.to_port));
}

function coversTcp(e: AclEntry, port: number): boolean {
  if (e.protocol === "-1" || e.protocol === "all") return true;
  return (e.protocol === "tcp" || e.protocol === "6") && e.from <= port && port <= e.to;
}

/** NACLs evaluate in rule-number order and stop at the first match; no match means the implicit deny. */
function firstMatchAllows(entries: AclEntry[], port: number): boolean {
  const first = [...entries].sort((a, b) => a.ruleNo - b.ruleNo).find((e) => coversTcp(e, port));
  return first?.allow ?? false;
}

export const naclDenyAdminPorts = defineRule({
  id: "DBT-INGRESS-6",
  description: "Network ACLs on the private subnets deny inbound 22 and 3389.",
  fix: "Associate each private subnet with an aws_network_acl whose lowest-numbered ingress entries deny tcp 22 and 3389 from 0.0.0.0/0.",
  check: (tf) => {
    const open = publicSubnets(tf);
    const subnets = resources(tf, "aws_subnet").filter((s) => !open.has(s.address));
    const acls = resources(tf, "aws_network_acl", "aws_default_network_acl");
    const extra = resources(tf, "aws_network_acl_rule").filter((r) => !isTrue(r.body.egress));
    const associations = resources(tf, "aws_network_acl_association");
    const findings: Finding[] = [];
    for (const subnet of subnets) {
      const acl = acls.find(
        (a) =>
          mentions(a.body.subnet_ids, subnet.address) ||
          associations.some(
            (x) => mentions(x.body.subnet_id, subnet.address) && mentions(x.body.network_acl_id, a.address),
          ),
      );
      if (!acl) {
        findings.push(
          fail(
            subnet.address,
            "no network ACL is associated: the VPC default ACL allows all inbound traffic",
          ),
        );
        continue;
      }
      const entries = [
        ...inlineEntries(acl.body),
        ...extra
          .filter((r) => mentions(r.body.network_acl_id, acl.address))
          .map((r) =>
            entry(r.body.rule_number, r.body.rule_action, r.body.protocol, r.body.from_port, r.body.to_port),
          ),
      ];
      const open = ADMIN_PORTS.filter((p) => firstMatchAllows(entries, p));
      if (open.length > 0)
        findings.push(
          fail(subnet.address, `network ACL ${acl.address} allows inbound tcp ${open.join(", ")}`),
        );
      else findings.push(ok(subnet.address, `network ACL ${acl.address} denies inbound 22 and 3389`));
    }
    return findings;
  },
});
