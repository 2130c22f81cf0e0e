/**
 * What the security policy reports and how a stack opts out of a rule: written by policy/, read by the
 * stack (suppressions from the config), the CLI (`dbtunnel audit`) and the e2e.
 */

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
