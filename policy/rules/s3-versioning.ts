import { defineRule, fail, ok } from "../define-rule.ts";
import { attachedTo, buckets } from "../s3-buckets.ts";
import { asObject, asString, isTrue } from "../tf-json.ts";

export const s3Versioning = defineRule({
  id: "CKV_AWS_21",
  description: "S3 bucket versioning is on.",
  fix: 'Add aws_s3_bucket_versioning with versioning_configuration { status = "Enabled" }.',
  check: (tf) =>
    buckets(tf).map((b) => {
      const enabled =
        attachedTo(tf, "aws_s3_bucket_versioning", b).some(
          (v) => asString(asObject(v.body.versioning_configuration)?.status) === "Enabled",
        ) || isTrue(asObject(b.body.versioning)?.enabled);
      return enabled ? ok(b.address, "versioning enabled") : fail(b.address, "versioning is not enabled");
    }),
});
