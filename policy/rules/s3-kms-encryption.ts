import { defineRule, fail, ok } from "../define-rule.ts";
import { attachedTo, buckets } from "../s3-buckets.ts";
import { asObject, asObjects, asString, field } from "../tf-json.ts";

export const s3KmsEncryption = defineRule({
  id: "CKV_AWS_145",
  aliases: ["AVD-AWS-0132"],
  description: "S3 buckets use default encryption with KMS.",
  fix: 'Add aws_s3_bucket_server_side_encryption_configuration with sse_algorithm = "aws:kms" and kms_master_key_id = the stack\'s key.',
  check: (tf) =>
    buckets(tf).map((b) => {
      const configs = [
        ...attachedTo(tf, "aws_s3_bucket_server_side_encryption_configuration", b).map((c) => c.body),
        ...asObjects(b.body.server_side_encryption_configuration),
      ];
      const algorithms = configs
        .flatMap((c) => asObjects(c.rule))
        .map((r) =>
          asString(field(asObject(field(r, "apply_server_side_encryption_by_default")), "sse_algorithm")),
        );
      if (algorithms.length === 0) return fail(b.address, "no default encryption configuration");
      return algorithms.every((a) => a === "aws:kms" || a === "aws:kms:dsse")
        ? ok(b.address, "default encryption with KMS")
        : fail(b.address, `default encryption is ${algorithms.join(", ")}, not aws:kms`);
    }),
});
