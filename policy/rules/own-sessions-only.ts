import { arnPattern } from "../arn.ts";
import { defineRule, fail, ok } from "../define-rule.ts";
import { describeStatement, documentsOfKind, grants, label } from "../iam-documents.ts";
import type { Finding } from "../types.ts";

/**
 * `${aws:userid}` must reach IAM literally. In Terraform JSON a bare `${` starts an interpolation, so it is
 * written `$${aws:userid}` (or `&{aws:userid}` in aws_iam_policy_document).
 */
const OWN_SESSION = arnPattern(String.raw`ssm:\*:\*:session\/(\$\$\{aws:userid\}|&\{aws:userid\})-\*`);
const UNESCAPED = arnPattern(String.raw`ssm:\*:\*:session\/\$\{aws:userid\}-\*`);

export const ownSessionsOnly = defineRule({
  id: "DBT-IAM-2",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JavaScript template
  description: "ssm:TerminateSession / ssm:ResumeSession only on arn:aws:ssm:*:*:session/${aws:userid}-*.",
  fix: "Allow ssm:TerminateSession and ssm:ResumeSession only on arn:aws:ssm:*:*:session/$${aws:userid}-* (escaped for Terraform as $${...}).",
  check: (tf) => {
    const findings: Finding[] = [];
    for (const doc of documentsOfKind(tf, "identity")) {
      if (!doc.statements) continue; // unreadable documents are already reported by CKV_AWS_62 and DBT-IAM-1
      for (const [i, s] of doc.statements.entries()) {
        const actions = ["ssm:TerminateSession", "ssm:ResumeSession"].filter((a) => grants(s, a));
        if (actions.length === 0) continue;
        const where = `${label(doc)} ${describeStatement(s, i)}`;
        const unescaped = s.resources.filter((r) => UNESCAPED.test(r));
        const other = s.resources.filter((r) => !OWN_SESSION.test(r) && !UNESCAPED.test(r));
        if (unescaped.length > 0)
          findings.push(
            fail(
              doc.owner,
              `${where}: \${aws:userid} is not escaped, Terraform would try to interpolate it; write $\${aws:userid}`,
            ),
          );
        else if (other.length > 0 || s.resources.length === 0)
          findings.push(
            fail(
              doc.owner,
              `${where} allows ${actions.join(", ")} on ${other.join(", ") || "no explicit resource"}`,
            ),
          );
        else
          findings.push(ok(doc.owner, `${where} limits ${actions.join(", ")} to the caller's own sessions`));
      }
    }
    return findings;
  },
});
