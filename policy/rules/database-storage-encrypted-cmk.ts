import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, exactReference, isTrue } from "../tf-json.ts";
import { databases } from "../topology.ts";

/** A key the stack controls: a reference to an aws_kms_key, or a literal customer key ARN (not an alias/aws/*). */
export function isCustomerKey(v: unknown): boolean {
  const ref = exactReference(v);
  if (ref) return ref.address.startsWith("aws_kms_key.") || ref.address.startsWith("data.aws_kms_key.");
  const s = asString(v);
  return s !== undefined && /^arn:aws[\w-]*:kms:[^:]*:\d{12}:key\/.+/.test(s);
}

export const databaseStorageEncryptedCmk = defineRule({
  id: "CKV_AWS_16",
  aliases: ["CKV_AWS_96", "CKV_AWS_327", "AVD-AWS-0080", "AVD-AWS-0079"],
  description: "Database storage is encrypted with the stack's customer-managed KMS key.",
  fix: "Set storage_encrypted = true and kms_key_id = <the stack's aws_kms_key>.arn on the database instance/cluster.",
  check: (tf) =>
    databases(tf).map((db) => {
      if (!isTrue(db.body.storage_encrypted)) return fail(db.address, "storage_encrypted is not true");
      if (!isCustomerKey(db.body.kms_key_id))
        return fail(
          db.address,
          "storage is encrypted with the AWS-managed key, not the stack's customer-managed key",
        );
      return ok(db.address, "storage encrypted with a customer-managed key");
    }),
});
