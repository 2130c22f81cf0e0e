import { defineRule, fail, ok } from "../define-rule.ts";
import { asNumber, asString } from "../tf-json.ts";
import { databases } from "../topology.ts";

export const databaseBackupRetention = defineRule({
  id: "CKV_AWS_133",
  aliases: ["AVD-AWS-0077"],
  description: "Automated backups are on with a retention of more than 1 day.",
  fix: "Set backup_retention_period to 7 (or more) days.",
  check: (tf) =>
    databases(tf)
      .filter((db) => asString(db.body.replicate_source_db) === undefined)
      .map((db) => {
        const days = asNumber(db.body.backup_retention_period);
        if (days === undefined) return fail(db.address, "backup_retention_period is not set to a number");
        return days > 1
          ? ok(db.address, `backups kept ${days} days`)
          : fail(db.address, `backup_retention_period = ${days}, must be more than 1`);
      }),
});
