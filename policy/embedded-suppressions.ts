import type { TerraformStack } from "cdktf";
import { PolicyError } from "./evaluate.ts";
import { isObject } from "./tf-json.ts";
import type { RuleSuppression } from "./types.ts";

/**
 * Where a stack's opt-outs travel inside its synthesized JSON (like cdk-nag's template metadata): under the
 * top-level `"//"` comment key, which Terraform ignores. `dbtunnel audit cdk.tf.json` then judges the file
 * by the same suppressions the stack was synthesized with, and prints each one with its reason.
 */
export const SUPPRESSIONS_METADATA_KEY = "dbtunnel_policy_suppressions";

/** Records `suppressions` in the stack's synthesized JSON (no-op when there are none). */
export function recordSuppressions(stack: TerraformStack, suppressions: readonly RuleSuppression[]): void {
  if (suppressions.length === 0) return;
  stack.addOverride(
    `//.${SUPPRESSIONS_METADATA_KEY}`,
    suppressions.map((s) => ({ ruleId: s.ruleId, reason: s.reason })),
  );
}

/** The suppressions recorded in a synthesized document; throws PolicyError (one line) when malformed. */
export function embeddedSuppressions(tfJson: object): RuleSuppression[] {
  const meta = (tfJson as Record<string, unknown>)["//"];
  if (!isObject(meta) || meta[SUPPRESSIONS_METADATA_KEY] === undefined) return [];
  const list = meta[SUPPRESSIONS_METADATA_KEY];
  if (!Array.isArray(list) || !list.every((s) => isObject(s) && typeof s.ruleId === "string")) {
    throw new PolicyError(
      `"//".${SUPPRESSIONS_METADATA_KEY} must be a list of {"ruleId", "reason"}; fix or remove it and synthesize again`,
    );
  }
  return list.map((s) => ({
    ruleId: String(s.ruleId),
    reason: typeof s.reason === "string" ? s.reason : "",
  }));
}
