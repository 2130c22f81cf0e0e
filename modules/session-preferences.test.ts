import { describe, expect, test } from "bun:test";
import { policyOf, synthesize } from "../test-support/modules/synth.ts";
import {
  SESSION_PREFERENCES_DOCUMENT,
  SessionPreferences,
  type SessionPreferencesProps,
} from "./session-preferences.ts";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/k";
const base: SessionPreferencesProps = { namePrefix: "dev", kmsKeyArn: KEY, kmsKeyId: "key-id-1" };

describe("SessionPreferences", () => {
  const tf = synthesize(
    (stack) =>
      new SessionPreferences(stack, "prefs", {
        ...base,
        idleSessionTimeoutMinutes: 15,
        maxSessionDurationMinutes: 120,
      }),
  );
  const doc = tf.one("aws_ssm_document");
  const content = JSON.parse(String(doc.content));

  test("the Session document is SSM-SessionManagerRunShell, JSON content readable by scanners", () => {
    expect(doc).toMatchObject({
      name: SESSION_PREFERENCES_DOCUMENT,
      document_type: "Session",
      document_format: "JSON",
    });
    expect(doc.permissions).toBeUndefined();
    expect(content).toMatchObject({ schemaVersion: "1.0", sessionType: "Standard_Stream" });
  });

  test("KMS key, encrypted S3 and CloudWatch logging, idle timeout, max duration, run-as off", () => {
    expect(content.inputs).toMatchObject({
      kmsKeyId: "key-id-1",
      s3EncryptionEnabled: true,
      cloudWatchEncryptionEnabled: true,
      runAsEnabled: false,
      idleSessionTimeout: "15",
      maxSessionDuration: "120",
    });
    expect(content.inputs.s3BucketName).toContain("aws_s3_bucket.");
    expect(content.inputs.cloudWatchLogGroupName).toContain("aws_cloudwatch_log_group.");
  });

  test("bucket: KMS default encryption, all four public-access blocks, versioning, ownership enforced", () => {
    expect(tf.one("aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      {
        apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: KEY },
        bucket_key_enabled: true,
      },
    ]);
    expect(tf.one("aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(tf.one("aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    expect(tf.one("aws_s3_bucket_ownership_controls").rule).toEqual({
      object_ownership: "BucketOwnerEnforced",
    });
    expect(tf.one("aws_s3_bucket").force_destroy).toBe(false);
  });

  test("lifecycle aborts incomplete uploads", () => {
    const [rule] = tf.one("aws_s3_bucket_lifecycle_configuration").rule as Array<Record<string, unknown>>;
    expect(rule?.status).toBe("Enabled");
    expect(rule?.abort_incomplete_multipart_upload).toEqual([{ days_after_initiation: 7 }]);
  });

  test("bucket policy denies every non-TLS request", () => {
    const [deny] = policyOf(tf.one("aws_s3_bucket_policy")).Statement;
    expect(deny).toMatchObject({
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  test("log group encrypted with the key and has a retention", () => {
    expect(tf.one("aws_cloudwatch_log_group")).toMatchObject({ kms_key_id: KEY, retention_in_days: 365 });
  });

  test("adopting an existing document emits an import block", () => {
    const adopted = synthesize(
      (stack) => new SessionPreferences(stack, "p", { ...base, adoptExistingDocument: true }),
    );
    expect(JSON.stringify(adopted.json.import)).toContain(`"id":"${SESSION_PREFERENCES_DOCUMENT}"`);
    expect(tf.json.import).toBeUndefined();
  });

  test("manageDocument=false leaves the document alone", () => {
    expect(
      synthesize((s) => new SessionPreferences(s, "p", { ...base, manageDocument: false })).count(
        "aws_ssm_document",
      ),
    ).toBe(0);
  });

  test("invalid props name the construct, the field and the fix", () => {
    expect(() =>
      synthesize((s) => new SessionPreferences(s, "p", { ...base, idleSessionTimeoutMinutes: 61 })),
    ).toThrow("SessionPreferences: idleSessionTimeoutMinutes is 61; use a whole number from 1 to 60");
    expect(() =>
      synthesize(
        (s) =>
          new SessionPreferences(s, "p", { ...base, manageDocument: false, adoptExistingDocument: true }),
      ),
    ).toThrow(/SessionPreferences: adoptExistingDocument/);
  });
});
