import { defineRule, fail, ok } from "../define-rule.ts";
import { asNumber, resources } from "../tf-json.ts";

export const logGroupRetention = defineRule({
  id: "CKV_AWS_66",
  description: "CloudWatch log groups have a retention period.",
  fix: "Set retention_in_days (e.g. 365) on the aws_cloudwatch_log_group.",
  check: (tf) =>
    resources(tf, "aws_cloudwatch_log_group").map((g) => {
      const days = asNumber(g.body.retention_in_days);
      return days !== undefined && days > 0
        ? ok(g.address, `retention ${days} days`)
        : fail(g.address, "retention_in_days is not set, so logs are kept forever");
    }),
});
