import { defineRule, fail, ok } from "../define-rule.ts";
import { isTrue, resources } from "../tf-json.ts";

export const subnetNoPublicIpOnLaunch = defineRule({
  id: "CKV_AWS_130",
  aliases: ["AVD-AWS-0164"],
  description: "Subnets do not map public IPs on launch.",
  fix: "Remove map_public_ip_on_launch (or set it to false) on the subnet.",
  check: (tf) =>
    resources(tf, "aws_subnet", "aws_default_subnet").map((b) =>
      isTrue(b.body.map_public_ip_on_launch) ||
      (b.type === "aws_default_subnet" && b.body.map_public_ip_on_launch === undefined)
        ? fail(b.address, "the subnet maps a public IP to every instance launched in it")
        : ok(b.address, "no public IP on launch"),
    ),
});
