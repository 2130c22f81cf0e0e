/**
 * Public types of the policy engine. Others (stacks/, cli/) code against these: keep them stable.
 */

/** A synthesized Terraform JSON document (cdk.tf.json). Parsed loosely: rules read it defensively. */
export type TerraformJson = Readonly<Record<string, unknown>>;

import type { RuleResult, RuleSuppression } from "../contract/policy-report.ts";

// The report and suppression types are the contract other parts read (contract/policy-report.ts).
export type { PolicyReport, RuleResult, RuleStatus, RuleSuppression } from "../contract/policy-report.ts";

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
