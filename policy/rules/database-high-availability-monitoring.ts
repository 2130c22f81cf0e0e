import { defineRule, fail, ok } from "../define-rule.ts";
import { asNumber, isTrue, resources } from "../tf-json.ts";
import { isCustomerKey } from "./database-storage-encrypted-cmk.ts";

/**
 * "Noise" for dev stacks (cost, not exposure): the default stack suppresses it with a reason and the
 * production profile turns the features on.
 */
export const databaseHighAvailabilityMonitoring = defineRule({
  id: "CKV_AWS_157",
  aliases: ["CKV_AWS_118", "CKV_AWS_353", "CKV_AWS_354"],
  description:
    "Multi-AZ, enhanced monitoring and Performance Insights (with the customer-managed key) are on.",
  fix: "Set multi_az = true, monitoring_interval > 0 with monitoring_role_arn, performance_insights_enabled = true with performance_insights_kms_key_id (production profile), or suppress CKV_AWS_157 with a reason for dev stacks.",
  check: (tf) =>
    resources(tf, "aws_db_instance").map((db) => {
      const b = db.body;
      const missing: string[] = [];
      if (!isTrue(b.multi_az)) missing.push("multi_az");
      if ((asNumber(b.monitoring_interval) ?? 0) <= 0 || b.monitoring_role_arn === undefined)
        missing.push("enhanced monitoring");
      if (!isTrue(b.performance_insights_enabled)) missing.push("Performance Insights");
      else if (!isCustomerKey(b.performance_insights_kms_key_id))
        missing.push("Performance Insights customer-managed key");
      return missing.length === 0
        ? ok(db.address, "Multi-AZ, enhanced monitoring and Performance Insights on")
        : fail(db.address, `missing: ${missing.join(", ")}`);
    }),
});
