import type { Finding, Rule, RuleResult, TerraformJson } from "./types.ts";

export interface RuleDefinition {
  readonly id: string;
  readonly aliases?: readonly string[];
  readonly description: string;
  readonly fix: string;
  /** Returns one finding per relevant resource; an empty list means the rule has nothing to look at. */
  readonly check: (tf: TerraformJson) => Finding[];
}

/**
 * Wraps a check so every rule answers the same way: ids, aliases and fix on each result, and exactly one
 * not-applicable result when the stack holds nothing the rule is about (so reports show every rule).
 */
export function defineRule(def: RuleDefinition): Rule {
  const aliases = [...(def.aliases ?? [])];
  return {
    id: def.id,
    aliases,
    description: def.description,
    fix: def.fix,
    evaluate: (tf: TerraformJson): RuleResult[] => {
      const findings = def.check(tf);
      const list: Finding[] =
        findings.length > 0
          ? findings
          : [{ status: "not-applicable", message: `nothing to check: ${def.description}` }];
      return list.map((f) => ({
        ruleId: def.id,
        aliases: [...aliases],
        status: f.status,
        ...(f.resource === undefined ? {} : { resource: f.resource }),
        message: f.message,
        fix: def.fix,
      }));
    },
  };
}

export const ok = (resource: string | undefined, message: string): Finding =>
  resource === undefined ? { status: "compliant", message } : { status: "compliant", resource, message };

export const fail = (resource: string | undefined, message: string): Finding =>
  resource === undefined
    ? { status: "non-compliant", message }
    : { status: "non-compliant", resource, message };
