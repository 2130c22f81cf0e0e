import { describe, expect, test } from "bun:test";
import { evaluatePolicy } from "./evaluate.ts";
import { NOISE_SUPPRESSIONS, secureStack } from "./fixtures/secure-stack.ts";
import { ALL_RULES } from "./rules/index.ts";

/**
 * The secure stack passes every rule, unconditionally: one test per rule, registered whatever the rule
 * answers, so a rule that starts failing on the stack the project is meant to synthesize fails here.
 * The only rule allowed to have nothing to check is the ECS-task rule (the fixture's jump host is EC2;
 * its own tests check it on the ECS variant). Suppressed results need the documented noise opt-outs.
 */
const NOT_ABOUT_THE_EC2_STACK = new Set(["CKV_AWS_334"]);

describe("the secure stack passes every rule", () => {
  const report = evaluatePolicy(secureStack(), { suppressions: NOISE_SUPPRESSIONS });

  test("no violation at all", () => {
    expect(report.violations).toEqual([]);
  });

  for (const rule of ALL_RULES) {
    test(`${rule.id}`, () => {
      const statuses = report.results.filter((r) => r.ruleId === rule.id).map((r) => r.status);
      expect(statuses.length).toBeGreaterThan(0);
      expect(statuses).not.toContain("non-compliant");
      if (NOT_ABOUT_THE_EC2_STACK.has(rule.id)) expect(statuses).toEqual(["not-applicable"]);
      else expect(statuses.some((s) => s === "compliant" || s === "suppressed")).toBe(true);
    });
  }

  test("only the documented noise rules are suppressed", () => {
    const suppressed = new Set(report.results.filter((r) => r.status === "suppressed").map((r) => r.ruleId));
    expect([...suppressed].sort()).toEqual(NOISE_SUPPRESSIONS.map((s) => s.ruleId).sort());
  });
});
