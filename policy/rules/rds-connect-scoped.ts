import { arnPattern } from "../arn.ts";
import { defineRule, fail, ok } from "../define-rule.ts";
import { describeStatement, documentsOfKind, grants, label } from "../iam-documents.ts";
import { exactReference } from "../tf-json.ts";
import type { Finding } from "../types.ts";

const DBUSER = arnPattern(String.raw`rds-db:([^:]+):([^:]+):dbuser:(.+)\/([^/]+)`);

/** The resource id must name one database: a reference to its resource id, or a literal db-/cluster- id. */
function isOneDatabase(resourceId: string): boolean {
  const ref = exactReference(resourceId);
  if (ref) {
    return (
      (ref.address.startsWith("aws_db_instance.") && ref.attribute === "resource_id") ||
      (ref.address.startsWith("aws_rds_cluster.") && ref.attribute === "cluster_resource_id") ||
      ref.address.startsWith("data.aws_db_instance.") ||
      ref.address.startsWith("data.aws_rds_cluster.")
    );
  }
  return /^(db|cluster)-[A-Z0-9]+$/.test(resourceId);
}

function problemOf(resource: string): string | undefined {
  const m = DBUSER.exec(resource);
  if (!m) return `${resource} is not an arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user> ARN`;
  const [, region, account, resourceId, user] = m;
  if (region === "*" || account === "*") return `${resource} does not pin the region and account`;
  if (!resourceId || !isOneDatabase(resourceId))
    return `${resource} does not name the database's resource id`;
  if (!user || user.includes("*")) return `${resource} does not name a database user`;
  return undefined;
}

export const rdsConnectScoped = defineRule({
  id: "DBT-IAM-3",
  description:
    "rds-db:connect is allowed only on arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user> for the named users.",
  fix: "Allow rds-db:connect only on arn:aws:rds-db:<region>:<account>:dbuser:<db resource_id>/<user> for each configured IAM user (no wildcards).",
  check: (tf) => {
    const findings: Finding[] = [];
    for (const doc of documentsOfKind(tf, "identity")) {
      if (!doc.statements) continue; // reported as unverifiable by CKV_AWS_62
      for (const [i, s] of doc.statements.entries()) {
        if (!grants(s, "rds-db:connect")) continue;
        const where = `${label(doc)} ${describeStatement(s, i)}`;
        const problems = s.resources.map(problemOf).filter((p): p is string => p !== undefined);
        if (s.resources.length === 0) problems.push("no Resource list");
        findings.push(
          problems.length > 0
            ? fail(doc.owner, `${where}: ${problems.join("; ")}`)
            : ok(doc.owner, `${where} names database users explicitly`),
        );
      }
    }
    return findings;
  },
});
