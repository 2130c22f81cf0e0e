import { defineRule, fail, ok } from "../define-rule.ts";
import { attachedTo, buckets } from "../s3-buckets.ts";
import { isTrue } from "../tf-json.ts";

/** "Noise" for a session-log bucket: the default stack suppresses it with a reason. */
export const s3LoggingReplicationLock = defineRule({
  id: "CKV_AWS_18",
  aliases: ["CKV_AWS_144", "CKV_AWS_143"],
  description: "S3 access logging, cross-region replication and object lock are on.",
  fix: "Add aws_s3_bucket_logging, aws_s3_bucket_replication_configuration and object lock, or suppress CKV_AWS_18 with a reason (usual for a session-log bucket).",
  check: (tf) =>
    buckets(tf).map((b) => {
      const missing: string[] = [];
      if (attachedTo(tf, "aws_s3_bucket_logging", b).length === 0) missing.push("access logging");
      if (attachedTo(tf, "aws_s3_bucket_replication_configuration", b).length === 0)
        missing.push("replication");
      if (
        !isTrue(b.body.object_lock_enabled) &&
        attachedTo(tf, "aws_s3_bucket_object_lock_configuration", b).length === 0
      )
        missing.push("object lock");
      return missing.length > 0
        ? fail(b.address, `missing: ${missing.join(", ")}`)
        : ok(b.address, "logging, replication and object lock on");
    }),
});
