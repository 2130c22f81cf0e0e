import { describe, expect, test } from "bun:test";
import { DNS_SUFFIX, PARTITION, policyOf, statement, synthesize } from "../test-support/modules/synth.ts";
import { EncryptionKey } from "./encryption-key.ts";

const props = {
  accountId: "123456789012",
  region: "eu-west-1",
  aliasName: "dbtunnel-dev",
  logGroupPattern: "/dbtunnel/dev/*",
};

describe("EncryptionKey", () => {
  const tf = synthesize((stack) => new EncryptionKey(stack, "key", props));
  const key = tf.one("aws_kms_key");

  test("rotation is on and the deletion window defaults to 30 days", () => {
    expect(key.enable_key_rotation).toBe(true);
    expect(key.deletion_window_in_days).toBe(30);
  });

  test("key policy names only the account root and the Logs service, never a bare *", () => {
    const doc = policyOf(key);
    for (const s of doc.Statement) expect(s.Principal).not.toBe("*");
    expect(statement(doc, "AccountRootManagesKeyViaIam").Principal).toEqual({
      AWS: `arn:${PARTITION}:iam::123456789012:root`,
    });
    const logs = statement(doc, "CloudWatchLogsEncryptsThisAccountsLogGroups");
    expect(logs.Principal).toEqual({ Service: `logs.eu-west-1.${DNS_SUFFIX}` });
    expect(logs.Condition).toEqual({
      ArnLike: {
        "kms:EncryptionContext:aws:logs:arn": `arn:${PARTITION}:logs:eu-west-1:123456789012:log-group:/dbtunnel/dev/*`,
      },
    });
  });

  test("alias points at the key", () => {
    expect(tf.one("aws_kms_alias").name).toBe("alias/dbtunnel-dev");
  });

  test("invalid props name the construct, the field and the fix", () => {
    expect(() => synthesize((s) => new EncryptionKey(s, "k", { ...props, deletionWindowDays: 3 }))).toThrow(
      "EncryptionKey: deletionWindowDays is 3; use a whole number from 7 to 30",
    );
    expect(() => synthesize((s) => new EncryptionKey(s, "k", { ...props, aliasName: "aws/x" }))).toThrow(
      /EncryptionKey: aliasName/,
    );
  });
});
