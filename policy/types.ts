/**
 * Public types of the policy engine. Others (stacks/, cli/) code against these: keep them stable.
 */

/** A synthesized Terraform JSON document (cdk.tf.json). Parsed loosely: rules read it defensively. */
export type TerraformJson = Readonly<Record<string, unknown>>;

export type RuleStatus = "compliant" | "non-compliant" | "not-applicable" | "suppressed";

/** One verdict of one rule about one resource (or about the stack when `resource` is absent). */
export interface RuleResult {
  readonly ruleId: string;
  /** The other scanners' IDs for the same property (checkov, trivy, cdk-nag). */
  readonly aliases: string[];
  readonly status: RuleStatus;
  /** Terraform address, e.g. `aws_security_group.jumphost_sg_1234` or `data.aws_iam_policy_document.x`. */
  readonly resource?: string;
  readonly message: string;
  /** What to change; always the rule's fix text so a table row is actionable on its own. */
  readonly fix: string;
}

export interface PolicyReport {
  /** Every result of every rule, in catalogue order. */
  readonly results: RuleResult[];
  /** The non-compliant results (suppressed ones are not violations). */
  readonly violations: RuleResult[];
}

/**
 * An explicit opt-out of one rule for the whole stack. Matches the rule's primary id or any alias.
 * The reason is mandatory: it is what reviewers read instead of the rule.
 */
export interface RuleSuppression {
  readonly ruleId: string;
  readonly reason: string;
}

export interface EvaluateOptions {
  readonly suppressions?: readonly RuleSuppression[];
}

/** What a rule's check returns before the engine stamps ids, aliases and the fix onto it. */
export interface Finding {
  readonly status: "compliant" | "non-compliant" | "not-applicable";
  readonly resource?: string;
  readonly message: string;
}

export interface Rule {
  /** Primary id shown first in reports, e.g. `DBT-INGRESS-1` or `CKV_AWS_24`. */
  readonly id: string;
  readonly aliases: readonly string[];
  /** One line: the property the rule enforces. */
  readonly description: string;
  /** One line: what the user changes to comply. */
  readonly fix: string;
  /** Pure function over the synthesized JSON. Returns at least one result. */
  readonly evaluate: (tf: TerraformJson) => RuleResult[];
}
