import { defineRule, fail, ok } from "../define-rule.ts";
import { isTrue } from "../tf-json.ts";
import { databases } from "../topology.ts";

export const databaseIamAuthentication = defineRule({
  id: "CKV_AWS_161",
  aliases: ["CKV_AWS_162", "AVD-AWS-0176"],
  description: "IAM database authentication is enabled.",
  fix: "Set iam_database_authentication_enabled = true; engineers log in with short-lived IAM tokens, not passwords.",
  check: (tf) =>
    databases(tf).map((db) =>
      isTrue(db.body.iam_database_authentication_enabled)
        ? ok(db.address, "IAM authentication enabled")
        : fail(db.address, "iam_database_authentication_enabled is not true"),
    ),
});
