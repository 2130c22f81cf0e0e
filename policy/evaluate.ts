import { ALL_RULES } from "./rules/index.ts";
import type {
  EvaluateOptions,
  PolicyReport,
  Rule,
  RuleResult,
  RuleSuppression,
  TerraformJson,
} from "./types.ts";

/** A policy input error (bad suppression, unreadable file): its message is one line, safe to print as is. */
export class PolicyError extends Error {
  override readonly name = "PolicyError";
}

function ruleFor(id: string, rules: readonly Rule[]): Rule | undefined {
  return rules.find((r) => r.id === id || r.aliases.includes(id));
}

/**
 * Checks suppressions up front: a typo in a rule id or an empty reason must fail loudly rather than
 * silently leave a rule on (or off).
 */
export function validateSuppressions(
  suppressions: readonly RuleSuppression[],
  rules: readonly Rule[] = ALL_RULES,
): Map<Rule, RuleSuppression> {
  const byRule = new Map<Rule, RuleSuppression>();
  for (const s of suppressions) {
    const id = typeof s?.ruleId === "string" ? s.ruleId.trim() : "";
    if (id === "")
      throw new PolicyError(
        "policy suppression without a ruleId: give the rule id to suppress (e.g. CKV_AWS_157)",
      );
    const rule = ruleFor(id, rules);
    if (!rule)
      throw new PolicyError(
        `policy suppression names unknown rule id "${id}": use an id printed by "dbtunnel audit"`,
      );
    if (typeof s.reason !== "string" || s.reason.trim() === "")
      throw new PolicyError(
        `policy suppression for ${id} has no reason: add a "reason" saying why the rule does not apply`,
      );
    byRule.set(rule, s);
  }
  return byRule;
}

function suppress(r: RuleResult, s: RuleSuppression): RuleResult {
  if (r.status !== "non-compliant") return r;
  return { ...r, status: "suppressed", message: `${r.message} (suppressed: ${s.reason.trim()})` };
}

/** Runs every rule over a synthesized Terraform JSON document. Pure: reads `tfJson`, never changes it. */
export function evaluatePolicy(tfJson: object, opts: EvaluateOptions = {}): PolicyReport {
  const suppressed = validateSuppressions(opts.suppressions ?? []);
  const tf = tfJson as TerraformJson;
  const results = ALL_RULES.flatMap((rule) => {
    const s = suppressed.get(rule);
    const out = rule.evaluate(tf);
    return s ? out.map((r) => suppress(r, s)) : out;
  });
  return { results, violations: results.filter((r) => r.status === "non-compliant") };
}
