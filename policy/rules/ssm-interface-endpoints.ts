import { defineRule, fail, ok } from "../define-rule.ts";
import { sessionDocuments } from "../session-document.ts";
import { asArray, asString, blockAt, isTrue, references, resources } from "../tf-json.ts";
import { endpointService, interfaceEndpoints, publicSubnets, subnetAddresses } from "../topology.ts";
import type { Finding, TerraformJson } from "../types.ts";

const ALWAYS = ["ssm", "ssmmessages", "ec2messages"] as const;

/** kms and logs endpoints are needed only when the session preferences use them. */
function servicesInUse(tf: TerraformJson): string[] {
  const extra = new Set<string>();
  for (const { inputs } of sessionDocuments(tf)) {
    if ((asString(inputs?.kmsKeyId) ?? "") !== "") extra.add("kms");
    if ((asString(inputs?.cloudWatchLogGroupName) ?? "") !== "") extra.add("logs");
  }
  return [...ALWAYS, ...extra];
}

export const ssmInterfaceEndpoints = defineRule({
  id: "DBT-NET-1",
  description:
    "Interface endpoints for ssm, ssmmessages, ec2messages (and kms, logs when used) exist with private DNS in the private subnets.",
  fix: 'Add aws_vpc_endpoint (vpc_endpoint_type = "Interface", private_dns_enabled = true, subnet_ids = the private subnets) for each missing service.',
  check: (tf) => {
    if (resources(tf, "aws_vpc", "aws_instance", "aws_vpc_endpoint").length === 0) return [];
    const endpoints = interfaceEndpoints(tf);
    const open = publicSubnets(tf);
    /**
     * A stack subnet must not route to the internet. Subnets given by id can only be judged when the VPC is
     * brought in (vpc_id given by id too): then they are the user's declared private subnets.
     */
    const isPrivate = (v: unknown, broughtInVpc: boolean): boolean => {
      const address = subnetAddresses(v)[0];
      if (address) return blockAt(tf, address) !== undefined && !open.has(address);
      return broughtInVpc && /^subnet-[0-9a-f]+$/.test(asString(v) ?? "");
    };
    const findings: Finding[] = [];
    for (const service of servicesInUse(tf)) {
      const ep = endpoints.find((e) => endpointService(e) === service);
      if (!ep) {
        findings.push(fail(undefined, `no interface endpoint for ${service}`));
        continue;
      }
      const problems: string[] = [];
      if (!isTrue(ep.body.private_dns_enabled)) problems.push("private_dns_enabled is not true");
      const placed = asArray(ep.body.subnet_ids);
      const broughtInVpc = !references(ep.body.vpc_id).some((r) => r.address.startsWith("aws_vpc."));
      const outside = placed.filter((v) => !isPrivate(v, broughtInVpc));
      if (placed.length === 0) problems.push("subnet_ids is empty");
      if (outside.length > 0)
        problems.push(
          `subnet(s) ${outside.map(String).join(", ")} are not private subnets of the stack (or of a VPC brought in by id)`,
        );
      findings.push(
        problems.length > 0
          ? fail(ep.address, `${service} endpoint: ${problems.join("; ")}`)
          : ok(ep.address, `${service} endpoint with private DNS in private subnets`),
      );
    }
    return findings;
  },
});
