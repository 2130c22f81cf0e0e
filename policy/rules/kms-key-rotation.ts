import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, isTrue, resources } from "../tf-json.ts";

export const kmsKeyRotation = defineRule({
  id: "CKV_AWS_7",
  aliases: ["AVD-AWS-0065"],
  description: "KMS key rotation is on.",
  fix: "Set enable_key_rotation = true on the aws_kms_key.",
  check: (tf) =>
    resources(tf, "aws_kms_key")
      // Only symmetric encryption keys can rotate automatically.
      .filter(
        (k) => (asString(k.body.customer_master_key_spec) ?? "SYMMETRIC_DEFAULT") === "SYMMETRIC_DEFAULT",
      )
      .map((k) =>
        isTrue(k.body.enable_key_rotation)
          ? ok(k.address, "rotation on")
          : fail(k.address, "enable_key_rotation is not true"),
      ),
});
