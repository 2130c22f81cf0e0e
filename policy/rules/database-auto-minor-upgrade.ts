import { defineRule, fail, ok } from "../define-rule.ts";
import { isFalse, resources } from "../tf-json.ts";

export const databaseAutoMinorUpgrade = defineRule({
  id: "CKV_AWS_226",
  description: "Automatic minor version upgrades are on.",
  fix: "Remove auto_minor_version_upgrade = false (the default is true).",
  check: (tf) =>
    resources(tf, "aws_db_instance", "aws_rds_cluster_instance").map((db) =>
      isFalse(db.body.auto_minor_version_upgrade)
        ? fail(db.address, "auto_minor_version_upgrade = false")
        : ok(db.address, "automatic minor version upgrades on"),
    ),
});
