import { defineRule, fail, ok } from "../define-rule.ts";
import { attachedTo, buckets } from "../s3-buckets.ts";
import { isTrue } from "../tf-json.ts";

const FLAGS = [
  "block_public_acls",
  "block_public_policy",
  "ignore_public_acls",
  "restrict_public_buckets",
] as const;

export const s3PublicAccessBlock = defineRule({
  id: "CKV_AWS_53",
  aliases: ["CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56", "CKV2_AWS_6"],
  description: "S3 buckets have a public access block with all four flags on.",
  fix: "Add aws_s3_bucket_public_access_block for the bucket with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets = true.",
  check: (tf) =>
    buckets(tf).map((b) => {
      const pab = attachedTo(tf, "aws_s3_bucket_public_access_block", b)[0];
      if (!pab) return fail(b.address, "no aws_s3_bucket_public_access_block for the bucket");
      const off = FLAGS.filter((f) => !isTrue(pab.body[f]));
      return off.length > 0
        ? fail(pab.address, `not true: ${off.join(", ")}`)
        : ok(b.address, "public access fully blocked");
    }),
});
