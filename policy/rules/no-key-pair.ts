import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, resources } from "../tf-json.ts";
import type { Finding } from "../types.ts";

export const noKeyPair = defineRule({
  id: "DBT-HOST-1",
  description: "The jump host has no SSH key pair.",
  fix: "Remove key_name and any aws_key_pair; Session Manager authenticates with IAM.",
  check: (tf) => {
    const findings: Finding[] = resources(tf, "aws_key_pair").map((b) =>
      fail(b.address, "the stack creates an SSH key pair"),
    );
    for (const b of resources(tf, "aws_instance", "aws_launch_template")) {
      const key = asString(b.body.key_name) ?? "";
      findings.push(key !== "" ? fail(b.address, `key_name = ${key}`) : ok(b.address, "no key pair"));
    }
    return findings;
  },
});
