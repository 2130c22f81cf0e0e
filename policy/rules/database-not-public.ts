import { defineRule, fail, ok } from "../define-rule.ts";
import { isTrue, resources } from "../tf-json.ts";

export const databaseNotPublic = defineRule({
  id: "CKV_AWS_17",
  aliases: ["AVD-AWS-0180"],
  description: "The database is not publicly accessible.",
  fix: "Set publicly_accessible = false (or leave it out) on the database instance.",
  check: (tf) =>
    resources(tf, "aws_db_instance", "aws_rds_cluster_instance").map((b) =>
      isTrue(b.body.publicly_accessible)
        ? fail(b.address, "publicly_accessible = true")
        : ok(b.address, "not publicly accessible"),
    ),
});
