import { arnPattern } from "../arn.ts";
import { defineRule, fail, ok } from "../define-rule.ts";
import { describeStatement, documentsOfKind, grants, label, type Statement } from "../iam-documents.ts";
import type { Finding } from "../types.ts";

/**
 * Own sessions are those whose `aws:ssmmessages:session-id` tag is the caller's `${aws:userid}` (user guide,
 * "Additional sample IAM policies for Session Manager", ending only one's own sessions, method 2): session
 * ids start with the IAM user name or the role session name, while `aws:userid` is `AIDA…` /
 * `AROA…:<session>`, so a `session/${aws:userid}-*` resource matches no real session (engineers could
 * never resume after a dropped WebSocket). `${aws:userid}` must reach IAM literally: in Terraform JSON it is
 * written `$${aws:userid}` (or `&{aws:userid}` in aws_iam_policy_document).
 */
const SESSION_RESOURCE = arnPattern(String.raw`ssm:[^:]*:[^:]*:session\/\*`);
const USERID_RESOURCE = arnPattern(
  String.raw`ssm:[^:]*:[^:]*:session\/(\$\$\{aws:userid\}|&\{aws:userid\}|\$\{aws:userid\})-\*`,
);
const TAG_KEY = "ssm:resourceTag/aws:ssmmessages:session-id";
const ESCAPED_USERID = /^(\$\$\{aws:userid\}|&\{aws:userid\})$/;

function ownerCondition(s: Statement): "ok" | "unescaped" | "missing" {
  const c = s.conditions.find(
    (c) => (c.test === "StringLike" || c.test === "StringEquals") && c.variable === TAG_KEY,
  );
  if (!c || c.values.length === 0) return "missing";
  if (c.values.every((v) => ESCAPED_USERID.test(v))) return "ok";
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
  return c.values.some((v) => v === "${aws:userid}") ? "unescaped" : "missing";
}

export const ownSessionsOnly = defineRule({
  id: "DBT-IAM-2",
  description:
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JavaScript template
    "ssm:TerminateSession / ssm:ResumeSession only on the caller's own sessions: session/* with StringLike ssm:resourceTag/aws:ssmmessages:session-id = ${aws:userid}.",
  fix: 'Allow ssm:TerminateSession and ssm:ResumeSession on arn:aws:ssm:<region>:<account>:session/* with Condition {"StringLike": {"ssm:resourceTag/aws:ssmmessages:session-id": "$${aws:userid}"}} (escaped for Terraform as $${...}).',
  check: (tf) => {
    const findings: Finding[] = [];
    for (const doc of documentsOfKind(tf, "identity")) {
      if (!doc.statements) continue; // unreadable documents are already reported by CKV_AWS_62 and DBT-IAM-1
      for (const [i, s] of doc.statements.entries()) {
        if (s.effect !== "Allow") continue;
        const actions = ["ssm:TerminateSession", "ssm:ResumeSession"].filter((a) => grants(s, a));
        if (actions.length === 0) continue;
        const where = `${label(doc)} ${describeStatement(s, i)}`;
        const userIdPrefixed = s.resources.filter((r) => USERID_RESOURCE.test(r));
        const other = s.resources.filter((r) => !SESSION_RESOURCE.test(r));
        const owner = ownerCondition(s);
        if (userIdPrefixed.length > 0)
          findings.push(
            fail(
              doc.owner,
              `${where}: session/\${aws:userid}-* matches no real session id (ids start with the user or role session name): use session/* with the aws:ssmmessages:session-id tag condition`,
            ),
          );
        else if (other.length > 0 || s.resources.length === 0)
          findings.push(
            fail(
              doc.owner,
              `${where} allows ${actions.join(", ")} on ${other.join(", ") || "no explicit resource"}`,
            ),
          );
        else if (owner === "unescaped")
          findings.push(
            fail(
              doc.owner,
              `${where}: \${aws:userid} is not escaped, Terraform would try to interpolate it; write $\${aws:userid}`,
            ),
          );
        else if (owner === "missing")
          findings.push(
            fail(
              doc.owner,
              `${where} allows ${actions.join(", ")} on every session: add StringLike ${TAG_KEY} = $\${aws:userid}`,
            ),
          );
        else
          findings.push(ok(doc.owner, `${where} limits ${actions.join(", ")} to the caller's own sessions`));
      }
    }
    return findings;
  },
});
