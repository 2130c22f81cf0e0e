import { defineRule, fail, ok } from "../define-rule.ts";
import type { TfBlock } from "../tf-json.ts";
import { asObjects, asString, blockAt, exactReference, resources } from "../tf-json.ts";
import { databaseEngine, databases, isMysqlFamily } from "../topology.ts";
import type { TerraformJson } from "../types.ts";

function parameterGroupOf(tf: TerraformJson, db: TfBlock): TfBlock | undefined {
  const attr = db.type === "aws_rds_cluster" ? "db_cluster_parameter_group_name" : "parameter_group_name";
  const value = db.body[attr];
  const ref = exactReference(value);
  if (ref) return blockAt(tf, ref.address);
  // A literal name may still name a group declared in the stack.
  const name = asString(value);
  const types =
    db.type === "aws_rds_cluster" ? ["aws_rds_cluster_parameter_group"] : ["aws_db_parameter_group"];
  return name === undefined ? undefined : resources(tf, ...types).find((g) => asString(g.body.name) === name);
}

export const databaseForceTls = defineRule({
  id: "CKV2_AWS_69",
  description:
    "The parameter group forces TLS (PostgreSQL rds.force_ssl = 1, MySQL require_secure_transport = ON).",
  fix: "Attach a parameter group (aws_db_parameter_group / aws_rds_cluster_parameter_group) with rds.force_ssl = 1 (PostgreSQL) or require_secure_transport = ON (MySQL).",
  check: (tf) =>
    databases(tf).map((db) => {
      const mysql = isMysqlFamily(databaseEngine(db));
      const [param, accepted] = mysql
        ? (["require_secure_transport", ["on", "1", "true"]] as const)
        : (["rds.force_ssl", ["1"]] as const);
      const group = parameterGroupOf(tf, db);
      if (!group)
        return fail(db.address, `no parameter group from the stack is attached, so ${param} is not enforced`);
      const p = asObjects(group.body.parameter).find((x) => asString(x.name) === param);
      const value = asString(p?.value)?.toLowerCase();
      return value !== undefined && (accepted as readonly string[]).includes(value)
        ? ok(db.address, `${group.address} sets ${param} = ${value}`)
        : fail(db.address, `${group.address} does not set ${param} to ${accepted[0]}`);
    }),
});
