import { defineRule, fail, ok } from "../define-rule.ts";
import { describeStatement, documentsOfKind, label } from "../iam-documents.ts";
import type { Finding } from "../types.ts";

export const iamNoWildcardAction = defineRule({
  id: "CKV_AWS_62",
  aliases: ["CKV_AWS_63", "CKV_AWS_1", "CKV_AWS_49"],
  description: 'No IAM policy allows the "*" action (no admin statements).',
  fix: "List the exact actions the principal needs instead of * (and never * on *).",
  check: (tf) =>
    documentsOfKind(tf, "identity").map((doc): Finding => {
      if (!doc.statements)
        return fail(doc.owner, `${label(doc)} cannot be read (e.g. jsonencode), so it cannot be verified`);
      const i = doc.statements.findIndex(
        (s) =>
          s.effect === "Allow" &&
          (s.actions.some((a) => a === "*" || a === "*:*") || s.notActions.length > 0),
      );
      const s = doc.statements[i];
      if (!s) return ok(doc.owner, `${label(doc)} lists explicit actions`);
      return fail(
        doc.owner,
        `${label(doc)} ${describeStatement(s, i)} allows ${s.notActions.length > 0 ? "everything except NotAction" : "*"}`,
      );
    }),
});
