import { ARN_PARTITION } from "../arn.ts";
import { defineRule, fail, ok } from "../define-rule.ts";
import { asString, asStrings, blockAt, exactReference, mentions, resources } from "../tf-json.ts";
import type { Finding, TerraformJson } from "../types.ts";

const AWS_MANAGED = new RegExp(`^arn:${ARN_PARTITION}:iam::aws:policy/`);

function managedArn(tf: TerraformJson, v: unknown): string | undefined {
  const s = asString(v);
  if (s && AWS_MANAGED.test(s)) return s;
  const ref = exactReference(v);
  if (ref?.address.startsWith("data.aws_iam_policy.")) {
    const data = blockAt(tf, ref.address);
    const arn = asString(data?.body.arn);
    if (arn && AWS_MANAGED.test(arn)) return arn;
    const name = asString(data?.body.name);
    // Looked up by name: AWS's own policies are the Amazon*/AWS* ones.
    if (name && /^(Amazon|AWS)/.test(name)) return name;
  }
  return undefined;
}

/** "Noise" where the AWS-managed SSM core policy is the documented choice: opt out with a reason. */
export const noAwsManagedPolicies = defineRule({
  id: "AwsSolutions-IAM4",
  description: "Roles use no AWS-managed policies (prefer a least-privilege inline equivalent).",
  fix: "Replace the AWS-managed policy (e.g. AmazonSSMManagedInstanceCore) with a least-privilege inline policy, or suppress AwsSolutions-IAM4 with the reason for keeping it.",
  check: (tf) => {
    const attachments = resources(tf, "aws_iam_role_policy_attachment", "aws_iam_policy_attachment");
    const findings: Finding[] = [];
    for (const role of resources(tf, "aws_iam_role")) {
      const managed = [
        ...asStrings(role.body.managed_policy_arns).filter((a) => AWS_MANAGED.test(a)),
        ...attachments
          .filter((a) => mentions(a.body.role, role.address) || mentions(a.body.roles, role.address))
          .map((a) => managedArn(tf, a.body.policy_arn))
          .filter((a): a is string => a !== undefined),
      ];
      findings.push(
        managed.length > 0
          ? fail(role.address, `uses AWS-managed ${managed.join(", ")}`)
          : ok(role.address, "no AWS-managed policies"),
      );
    }
    return findings;
  },
});
