import { defineRule, fail, ok } from "../define-rule.ts";
import { asObjects, asString, resources } from "../tf-json.ts";
import type { Finding } from "../types.ts";

const DEFAULT_ROUTES = new Set(["0.0.0.0/0", "::/0"]);

/** Without a path to the internet, a compromised jump host cannot reach out; AWS APIs go via endpoints. */
export const noInternetPath = defineRule({
  id: "DBT-INGRESS-5",
  description:
    "No internet gateway, NAT gateway, Elastic IP or route to 0.0.0.0/0 unless explicitly opted in.",
  fix: "Remove the internet/NAT gateway, Elastic IP or default route; reach AWS APIs through VPC endpoints. If the stack really needs internet egress, suppress DBT-INGRESS-5 with a reason.",
  check: (tf) => {
    const findings: Finding[] = [];
    const gateways: [string, string][] = [
      ["aws_internet_gateway", "an internet gateway"],
      ["aws_egress_only_internet_gateway", "an egress-only internet gateway"],
      ["aws_nat_gateway", "a NAT gateway"],
      ["aws_eip", "an Elastic IP"],
      ["aws_internet_gateway_attachment", "an internet gateway attachment"],
    ];
    for (const [type, what] of gateways) {
      for (const b of resources(tf, type)) findings.push(fail(b.address, `the stack creates ${what}`));
    }
    for (const b of resources(tf, "aws_route")) {
      const dest = asString(b.body.destination_cidr_block) ?? asString(b.body.destination_ipv6_cidr_block);
      if (dest && DEFAULT_ROUTES.has(dest)) findings.push(fail(b.address, `route to ${dest}`));
    }
    for (const b of resources(tf, "aws_route_table", "aws_default_route_table")) {
      for (const r of asObjects(b.body.route)) {
        const dest = asString(r.cidr_block) ?? asString(r.ipv6_cidr_block);
        if (dest && DEFAULT_ROUTES.has(dest))
          findings.push(fail(b.address, `route table has a route to ${dest}`));
      }
    }
    if (findings.length === 0) {
      for (const v of resources(tf, "aws_vpc"))
        findings.push(ok(v.address, "no internet gateway, NAT, Elastic IP or default route"));
    }
    return findings;
  },
});
