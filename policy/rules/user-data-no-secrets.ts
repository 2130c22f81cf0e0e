import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, resources } from "../tf-json.ts";

/**
 * Patterns of credentials that must never sit in user data (readable by anyone who can describe the
 * instance). Assignments from commands (`TOKEN=$(curl ...)`, backticks) are how secrets are fetched at run
 * time, which is the fix, so they do not match.
 */
const SECRET_PATTERNS: readonly [RegExp, string][] = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, "an AWS access key id"],
  [/aws_secret_access_key|AWS_SECRET_ACCESS_KEY\s*=/, "an AWS secret access key"],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, "a private key"],
  [
    /\b(PGPASSWORD|MYSQL_PWD|DB_PASSWORD|password|passwd|secret|token)\s*[=:]\s*['"]?[^\s'"$`(]{4,}/i,
    "a password or token assignment",
  ],
];

function decode(value: string, base64: boolean): string {
  if (!base64 || value.includes("${")) return value;
  try {
    return Buffer.from(value, "base64").toString("utf8");
  } catch {
    return value;
  }
}

export const userDataNoSecrets = defineRule({
  id: "CKV_AWS_46",
  aliases: ["AVD-AWS-0029"],
  description: "No secrets in user data.",
  fix: "Remove credentials from user_data; the instance gets what it needs from its instance profile and Secrets Manager at run time.",
  check: (tf) =>
    resources(tf, "aws_instance", "aws_launch_template").map((b) => {
      const plain = asString(b.body.user_data);
      const b64 = asString(b.body.user_data_base64);
      // aws_launch_template.user_data is base64 already.
      const text = [
        plain === undefined ? "" : decode(plain, b.type === "aws_launch_template"),
        b64 === undefined ? "" : decode(b64, true),
      ].join("\n");
      const hit = SECRET_PATTERNS.find(([re]) => re.test(text));
      return hit
        ? fail(b.address, `user data contains ${hit[1]}`)
        : ok(b.address, "no secrets found in user data");
    }),
});
