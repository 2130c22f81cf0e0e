import { defineRule, fail, ok } from "../define-rule.ts";
import { isTrue } from "../tf-json.ts";
import { databases } from "../topology.ts";

export const databaseDeletionProtection = defineRule({
  id: "CKV_AWS_293",
  aliases: ["CKV_AWS_139"],
  description: "Deletion protection is on (test stacks may opt out with a documented reason).",
  fix: "Set deletion_protection = true; for throw-away test stacks suppress CKV_AWS_293 with a reason instead.",
  check: (tf) =>
    databases(tf).map((db) =>
      isTrue(db.body.deletion_protection)
        ? ok(db.address, "deletion protection on")
        : fail(db.address, "deletion_protection is not true"),
    ),
});
