import { defineRule, fail, ok } from "../define-rule.ts";
import { attachedTo, buckets } from "../s3-buckets.ts";
import { asObject, asObjects, asString, field } from "../tf-json.ts";

export const s3LifecycleAndOwnership = defineRule({
  id: "CKV2_AWS_61",
  aliases: ["CKV_AWS_300", "CKV2_AWS_65"],
  description:
    "The bucket has a lifecycle configuration that aborts incomplete multipart uploads, and object ownership is enforced (ACLs disabled).",
  fix: 'Add aws_s3_bucket_lifecycle_configuration with an Enabled rule carrying abort_incomplete_multipart_upload, and aws_s3_bucket_ownership_controls with object_ownership = "BucketOwnerEnforced".',
  check: (tf) =>
    buckets(tf).map((b) => {
      const problems: string[] = [];
      const lifecycle = attachedTo(tf, "aws_s3_bucket_lifecycle_configuration", b);
      if (lifecycle.length === 0) problems.push("no lifecycle configuration");
      else {
        const aborts = lifecycle
          .flatMap((l) => asObjects(l.body.rule))
          .some(
            (r) =>
              asString(r.status) === "Enabled" &&
              asObject(field(r, "abort_incomplete_multipart_upload")) !== undefined,
          );
        if (!aborts) problems.push("no enabled lifecycle rule aborts incomplete multipart uploads");
      }
      const owned = attachedTo(tf, "aws_s3_bucket_ownership_controls", b).some(
        (o) => asString(field(asObject(o.body.rule), "object_ownership")) === "BucketOwnerEnforced",
      );
      if (!owned) problems.push('object ownership is not "BucketOwnerEnforced"');
      return problems.length > 0
        ? fail(b.address, problems.join("; "))
        : ok(b.address, "lifecycle aborts uploads, ACLs disabled");
    }),
});
