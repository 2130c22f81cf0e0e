import { defineRule, fail, ok } from "../define-rule.ts";
import { mentions, resources } from "../tf-json.ts";

export const vpcFlowLogs = defineRule({
  id: "CKV2_AWS_11",
  aliases: ["AVD-AWS-0178"],
  description: "VPC flow logs are enabled.",
  fix: "Add an aws_flow_log with vpc_id = the VPC (traffic_type ALL) delivering to the stack's encrypted log group or bucket.",
  check: (tf) => {
    const logs = resources(tf, "aws_flow_log");
    return resources(tf, "aws_vpc").map((vpc) =>
      logs.some((l) => mentions(l.body.vpc_id, vpc.address))
        ? ok(vpc.address, "flow logs enabled")
        : fail(vpc.address, "no aws_flow_log for this VPC"),
    );
  },
});
