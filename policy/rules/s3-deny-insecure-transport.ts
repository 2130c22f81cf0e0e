import { defineRule, fail, ok } from "../define-rule.ts";
import { actionMatches, isWildcardPrincipal, readDocument, type Statement } from "../iam-documents.ts";
import { attachedTo, buckets } from "../s3-buckets.ts";

function deniesInsecureTransport(s: Statement): boolean {
  return (
    s.effect === "Deny" &&
    s.principals.some(isWildcardPrincipal) &&
    s.actions.some((a) => actionMatches(a, "s3:GetObject") && actionMatches(a, "s3:PutObject")) &&
    s.conditions.some(
      (c) =>
        c.test === "Bool" && c.variable === "aws:SecureTransport" && c.values.map(String).includes("false"),
    )
  );
}

export const s3DenyInsecureTransport = defineRule({
  id: "CKV_AWS_379",
  aliases: ["AwsSolutions-S10"],
  description: "The bucket policy denies requests that do not use TLS.",
  fix: 'Add a bucket policy statement: Effect Deny, Principal *, Action s3:*, Resource bucket and bucket/*, Condition Bool aws:SecureTransport = "false".',
  check: (tf) =>
    buckets(tf).map((b) => {
      const policies = attachedTo(tf, "aws_s3_bucket_policy", b);
      if (policies.length === 0)
        return fail(b.address, "no bucket policy, so plain-HTTP requests are not denied");
      for (const p of policies) {
        const { statements } = readDocument(tf, p.body.policy);
        if (!statements) return fail(p.address, "the bucket policy cannot be read, so it cannot be verified");
        if (statements.some(deniesInsecureTransport)) return ok(b.address, "non-TLS requests denied");
      }
      return fail(policies[0]?.address ?? b.address, "no Deny statement on aws:SecureTransport = false");
    }),
});
