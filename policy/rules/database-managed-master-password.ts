import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, isTrue } from "../tf-json.ts";
import { databases } from "../topology.ts";

/** A password in the configuration ends up in state and in cdk.tf.json; Secrets Manager keeps it out of both. */
export const databaseManagedMasterPassword = defineRule({
  id: "DBT-DB-1",
  description:
    "The master password is managed by Secrets Manager (manage_master_user_password), never a literal.",
  fix: "Remove password/master_password and set manage_master_user_password = true.",
  check: (tf) =>
    databases(tf)
      .filter(
        (db) =>
          asString(db.body.replicate_source_db) === undefined &&
          asString(db.body.snapshot_identifier) === undefined,
      )
      .map((db) => {
        const attr = db.type === "aws_rds_cluster" ? "master_password" : "password";
        if (db.body[attr] !== undefined || db.body[`${attr}_wo`] !== undefined)
          return fail(db.address, `${attr} is set in the configuration`);
        return isTrue(db.body.manage_master_user_password)
          ? ok(db.address, "master password managed by Secrets Manager")
          : fail(db.address, "manage_master_user_password is not true");
      }),
});
