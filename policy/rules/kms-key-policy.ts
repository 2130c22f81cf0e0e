import { defineRule, fail, ok } from "../define-rule.ts";
import { describeStatement, isWildcardPrincipal, readDocument } from "../iam-documents.ts";
import { mentions, resources } from "../tf-json.ts";

export const kmsKeyPolicy = defineRule({
  id: "CKV2_AWS_64",
  aliases: ["CKV_AWS_33"],
  description: "Each KMS key has an explicit key policy with no * principal without conditions.",
  fix: "Give the aws_kms_key an explicit policy naming the account root and the service principals (logs, with an encryption-context condition); never Principal * without a condition.",
  check: (tf) => {
    const standalone = resources(tf, "aws_kms_key_policy");
    return resources(tf, "aws_kms_key").map((key) => {
      const value =
        key.body.policy ?? standalone.find((p) => mentions(p.body.key_id, key.address))?.body.policy;
      if (value === undefined)
        return fail(key.address, "no explicit key policy (the default grants the whole account)");
      const { statements } = readDocument(tf, value);
      if (!statements)
        return fail(
          key.address,
          "the key policy cannot be read (build it with JSON.stringify or aws_iam_policy_document), so it cannot be verified",
        );
      const open = statements.findIndex(
        (s) => s.effect === "Allow" && s.principals.some(isWildcardPrincipal) && s.conditions.length === 0,
      );
      const s = statements[open];
      return s
        ? fail(key.address, `${describeStatement(s, open)} allows Principal * without conditions`)
        : ok(key.address, "explicit key policy without open principals");
    });
  },
});
