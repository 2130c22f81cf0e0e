import { defineRule, fail, ok } from "../define-rule.ts";
import { asStrings } from "../tf-json.ts";
import { databases } from "../topology.ts";

export const databaseLogExports = defineRule({
  id: "CKV_AWS_129",
  aliases: ["CKV_AWS_324"],
  description: "Database log exports to CloudWatch are enabled.",
  fix: 'Set enabled_cloudwatch_logs_exports (e.g. ["postgresql"] for PostgreSQL, ["error","general","slowquery"] for MySQL).',
  check: (tf) =>
    databases(tf).map((db) => {
      const logs = asStrings(db.body.enabled_cloudwatch_logs_exports);
      return logs.length > 0
        ? ok(db.address, `exports ${logs.join(", ")} to CloudWatch`)
        : fail(db.address, "enabled_cloudwatch_logs_exports is empty");
    }),
});
