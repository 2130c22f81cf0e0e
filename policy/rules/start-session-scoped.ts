import { arnPattern } from "../arn.ts";
import { defineRule, fail, ok } from "../define-rule.ts";
import { describeStatement, documentsOfKind, grants, label, type Statement } from "../iam-documents.ts";
import { references } from "../tf-json.ts";
import { jumpHosts } from "../topology.ts";
import type { Finding, TerraformJson } from "../types.ts";

/** A document the stack defines itself, named by reference (whether it is pinned: DBT-IAM-4). */
const STACK_DOCUMENT = /^\$\{aws_ssm_document\.[A-Za-z0-9_-]+\.arn\}$/;

function hasDocumentAccessCheck(s: Statement): boolean {
  return s.conditions.some(
    (c) =>
      c.test === "BoolIfExists" &&
      c.variable === "ssm:SessionDocumentAccessCheck" &&
      c.values.length > 0 &&
      c.values.every((v) => v === "true"),
  );
}

/**
 * An ARN naming the jump host: it references a tagged jump-host resource, is a literal instance id, or (ECS,
 * whose tasks are created at run time) names the tasks of one cluster.
 */
const ECS_CLUSTER_TASKS = arnPattern(String.raw`ecs:[^:]*:[^:]*:task\/[^*/]+\/\*`);

function isJumpHostTarget(resource: string, jumpAddresses: Set<string>): boolean {
  const ecsTasks = ECS_CLUSTER_TASKS.test(resource);
  if (resource.includes("*") && !ecsTasks) return false;
  const refs = references(resource);
  if (refs.length > 0) {
    // ECS tasks are created at run time: the task ARN can only pin the cluster.
    return refs.some((r) => jumpAddresses.has(r.address) || r.address.startsWith("aws_ecs_cluster."));
  }
  return ecsTasks || arnPattern(String.raw`ec2:[^:]+:\d{12}:instance\/i-[0-9a-f]+`).test(resource);
}

function problemsOf(s: Statement, jumpAddresses: Set<string>): string[] {
  const problems: string[] = [];
  if (s.notActions.length > 0) problems.push("uses NotAction");
  if (!hasDocumentAccessCheck(s))
    problems.push('lacks Condition BoolIfExists ssm:SessionDocumentAccessCheck = "true"');
  if (s.resources.length === 0) problems.push("has no Resource list");
  const docs = s.resources.filter((r) => STACK_DOCUMENT.test(r));
  const others = s.resources.filter((r) => !STACK_DOCUMENT.test(r) && !isJumpHostTarget(r, jumpAddresses));
  if (others.length > 0)
    problems.push(
      `allows resources other than the jump host and the stack's own Port document: ${others.join(", ")}`,
    );
  if (docs.length === 0) problems.push("does not name the stack's own Port document (an aws_ssm_document)");
  return problems;
}

function jumpAddressesOf(tf: TerraformJson): Set<string> {
  return new Set(jumpHosts(tf).map((h) => h.address));
}

export const startSessionScoped = defineRule({
  id: "DBT-IAM-1",
  description:
    "Every statement allowing ssm:StartSession carries BoolIfExists ssm:SessionDocumentAccessCheck = true and lists only the jump host and the stack's own Port document (never AWS-owned forwarding or SSH documents).",
  fix: 'Allow ssm:StartSession only on the jump host ARN and the ARN of the stack\'s pinned Port document (PortForwardingDocument), with Condition {"BoolIfExists": {"ssm:SessionDocumentAccessCheck": "true"}}.',
  check: (tf) => {
    const jump = jumpAddressesOf(tf);
    const findings: Finding[] = [];
    for (const doc of documentsOfKind(tf, "identity")) {
      if (!doc.statements) {
        findings.push(
          fail(
            doc.owner,
            `${label(doc)} cannot be read (e.g. jsonencode), so ssm:StartSession cannot be verified`,
          ),
        );
        continue;
      }
      for (const [i, s] of doc.statements.entries()) {
        if (!grants(s, "ssm:StartSession")) continue;
        const problems = problemsOf(s, jump);
        findings.push(
          problems.length > 0
            ? fail(doc.owner, `${label(doc)} ${describeStatement(s, i)} ${problems.join("; ")}`)
            : ok(
                doc.owner,
                `${label(doc)} ${describeStatement(s, i)} limits StartSession to the jump host and the stack's Port document`,
              ),
        );
      }
    }
    return findings;
  },
});
