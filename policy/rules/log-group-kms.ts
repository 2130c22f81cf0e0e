import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, resources } from "../tf-json.ts";

export const logGroupKms = defineRule({
  id: "CKV_AWS_158",
  aliases: ["AVD-AWS-0017"],
  description: "CloudWatch log groups are encrypted with KMS.",
  fix: "Set kms_key_id on the aws_cloudwatch_log_group to the stack's KMS key ARN (the key policy must allow logs.<region>.amazonaws.com).",
  check: (tf) =>
    resources(tf, "aws_cloudwatch_log_group").map((g) =>
      (asString(g.body.kms_key_id) ?? "") !== ""
        ? ok(g.address, "encrypted with KMS")
        : fail(g.address, "kms_key_id is not set"),
    ),
});
