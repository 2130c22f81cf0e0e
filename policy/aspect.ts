import { type IAspect, TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";
import { recordSuppressions } from "./embedded-suppressions.ts";
import { evaluatePolicy, validateSuppressions } from "./evaluate.ts";
import type { RuleResult, RuleSuppression } from "./types.ts";

export interface SecurityPolicyAspectProps {
  /**
   * Rules the stack opts out of, each with the reason reviewers read instead of the rule.
   * @default - no suppressions: every rule must pass
   */
  readonly suppressions?: readonly RuleSuppression[];
}

export function formatViolation(v: RuleResult): string {
  return `${v.ruleId} ${v.resource ?? "(stack)"}: ${v.message}. Fix: ${v.fix}`;
}

/**
 * Fails synth when the stack breaks a security rule. It checks the stack's final JSON (after every other
 * aspect and override), so it sees exactly what Terraform would apply, like `dbtunnel audit` does. It also
 * records its suppressions in that JSON (see embedded-suppressions.ts) so the audit of the file agrees.
 */
export class SecurityPolicyAspect implements IAspect {
  private readonly suppressions: readonly RuleSuppression[];
  private readonly registered = new WeakSet<TerraformStack>();

  constructor(props: SecurityPolicyAspectProps = {}) {
    this.suppressions = [...(props.suppressions ?? [])];
    // Bad suppressions fail when the stack is built, not later at synth.
    validateSuppressions(this.suppressions);
  }

  visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node) || this.registered.has(node)) return;
    this.registered.add(node);
    const stack = node;
    // The opt-outs ride along in cdk.tf.json so `dbtunnel audit` agrees with synth.
    recordSuppressions(stack, this.suppressions);
    stack.node.addValidation({
      validate: () => {
        const report = evaluatePolicy(stack.toTerraform(), { suppressions: this.suppressions });
        return report.violations.map(formatViolation);
      },
    });
  }
}
