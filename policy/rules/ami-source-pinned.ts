import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, asStrings, blockAt, dataSources, exactReference, resources } from "../tf-json.ts";
import type { Finding } from "../types.ts";

/** Public SSM parameters under /aws/service/ are published by AWS and cannot be overwritten by the account. */
const PUBLIC_PARAMETER = /^\/aws\/service\//;

export const amiSourcePinned = defineRule({
  id: "CKV_AWS_386",
  aliases: ["AVD-AWS-0344"],
  description: "AMI lookups pin owners (or use AWS's public SSM parameter for Amazon Linux).",
  fix: 'Set owners = ["amazon"] (or the publisher account id) on data.aws_ami, or read the AMI id from the public /aws/service/ami-amazon-linux-latest/... SSM parameter.',
  check: (tf) => {
    const findings: Finding[] = [];
    for (const ami of dataSources(tf, "aws_ami")) {
      const owners = asStrings(ami.body.owners);
      findings.push(
        owners.length > 0 && !owners.includes("*")
          ? ok(ami.address, `owners pinned to ${owners.join(", ")}`)
          : fail(ami.address, "owners is empty or *: anyone's AMI with a matching name could be picked"),
      );
    }
    for (const inst of resources(tf, "aws_instance", "aws_launch_template")) {
      const attr = inst.type === "aws_instance" ? "ami" : "image_id";
      const ref = exactReference(inst.body[attr]);
      if (!ref?.address.startsWith("data.aws_ssm_parameter.")) continue;
      const param = blockAt(tf, ref.address);
      const name = asString(param?.body.name) ?? "";
      findings.push(
        PUBLIC_PARAMETER.test(name)
          ? ok(inst.address, `AMI from the public parameter ${name}`)
          : fail(
              inst.address,
              `AMI id comes from SSM parameter ${name || ref.address}, which the account itself can overwrite`,
            ),
      );
    }
    return findings;
  },
});
