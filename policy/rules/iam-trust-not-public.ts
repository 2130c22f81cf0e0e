import { defineRule, fail, ok } from "../define-rule.ts";
import {
  describeStatement,
  documentsOfKind,
  isWildcardPrincipal,
  label,
  type Principal,
} from "../iam-documents.ts";
import type { Finding } from "../types.ts";

/** `arn:aws:iam::123456789012:root`, a bare account id, or an expression ending in `:root`. */
function isWholeAccount(p: Principal): boolean {
  return (
    p.type === "AWS" &&
    p.identifiers.some((id) => /^\d{12}$/.test(id) || /:root$/.test(id) || /:root\}?$/.test(id))
  );
}

export const iamTrustNotPublic = defineRule({
  id: "CKV_AWS_60",
  aliases: ["CKV_AWS_61"],
  description: "Role trust policies are not public and do not trust a whole account without conditions.",
  fix: "Trust a specific service or role principal; if a whole account must assume the role, add conditions (e.g. aws:PrincipalArn, sts:ExternalId, MFA).",
  check: (tf) =>
    documentsOfKind(tf, "trust").map((doc): Finding => {
      if (!doc.statements)
        return fail(doc.owner, `${label(doc)} cannot be read (e.g. jsonencode), so it cannot be verified`);
      for (const [i, s] of doc.statements.entries()) {
        if (s.effect !== "Allow") continue;
        if (s.principals.some(isWildcardPrincipal))
          return fail(doc.owner, `${describeStatement(s, i)} lets anyone (*) assume the role`);
        if (s.principals.some(isWholeAccount) && s.conditions.length === 0)
          return fail(doc.owner, `${describeStatement(s, i)} trusts a whole account without conditions`);
      }
      return ok(doc.owner, "trust policy names specific principals");
    }),
});
