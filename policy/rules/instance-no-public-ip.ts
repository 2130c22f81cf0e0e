import { defineRule, fail, ok } from "../define-rule.ts";
import { asObject, asObjects, isTrue, resources } from "../tf-json.ts";
import type { Finding } from "../types.ts";

export const instanceNoPublicIp = defineRule({
  id: "CKV_AWS_88",
  aliases: ["AVD-AWS-0009"],
  description: "Instances (and ECS tasks) get no public IP.",
  fix: "Drop associate_public_ip_address (the private subnets map no public IP) / set assign_public_ip = false on the ECS service.",
  check: (tf) => {
    const findings: Finding[] = [];
    for (const b of resources(tf, "aws_instance")) {
      findings.push(
        isTrue(b.body.associate_public_ip_address)
          ? fail(b.address, "associate_public_ip_address = true")
          : ok(b.address, "no public IP requested"),
      );
    }
    for (const b of resources(tf, "aws_launch_template")) {
      const pub = asObjects(b.body.network_interfaces).some((n) => isTrue(n.associate_public_ip_address));
      findings.push(
        pub
          ? fail(b.address, "a network interface associates a public IP")
          : ok(b.address, "no public IP requested"),
      );
    }
    for (const b of resources(tf, "aws_ecs_service")) {
      const pub = isTrue(asObject(b.body.network_configuration)?.assign_public_ip);
      findings.push(
        pub ? fail(b.address, "assign_public_ip = true") : ok(b.address, "no public IP requested"),
      );
    }
    return findings;
  },
});
