import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ALL_RULES } from "./index.ts";

/**
 * The catalogue as a whole: every rule has a test file next to it (compliant, non-compliant and
 * not-applicable cases), unique ids, one-line texts, and a row in policy/README.md.
 */

const RULES_DIR = import.meta.dir;

/** The text of the test file next to the rule with this id (found by the id in the rule's source). */
function testFileOf(id: string): string | undefined {
  const source = readdirSync(RULES_DIR).find(
    (f) =>
      f.endsWith(".ts") &&
      !f.endsWith(".test.ts") &&
      readFileSync(join(RULES_DIR, f), "utf8").includes(`id: "${id}"`),
  );
  const testFile = source && join(RULES_DIR, source.replace(/\.ts$/, ".test.ts"));
  return testFile && existsSync(testFile) ? readFileSync(testFile, "utf8") : undefined;
}

describe("rule catalogue", () => {
  test("every rule has its own test file with compliant, non-compliant and not-applicable tests", () => {
    const incomplete = ALL_RULES.map((rule) => [rule.id, testFileOf(rule.id)] as const)
      .filter(([, text]) => {
        if (text === undefined) return true;
        const hasNonCompliant =
          /test\(\s*"non-compliant:/.test(text) || /NON_COMPLIANT: NonCompliantCase\[\] = \[\s*\{/.test(text);
        return !hasNonCompliant || !/compliant: /.test(text) || !/not-applicable/.test(text);
      })
      .map(([id]) => id);
    expect(incomplete).toEqual([]);
  });

  test("ids and aliases are unique across rules", () => {
    const all = ALL_RULES.flatMap((r) => [r.id, ...r.aliases]);
    expect(all.length).toBe(new Set(all).size);
  });

  test("every rule has a one-line description and fix", () => {
    for (const r of ALL_RULES) {
      expect(r.description).not.toContain("\n");
      expect(r.fix).not.toContain("\n");
      expect(r.fix.length).toBeGreaterThan(20);
    }
  });

  test("a rule with nothing to check answers one not-applicable result", () => {
    for (const r of ALL_RULES) {
      const results = r.evaluate({ resource: {} });
      expect(results).toHaveLength(1);
      expect(results[0]?.status).toBe("not-applicable");
      expect(results[0]?.ruleId).toBe(r.id);
    }
  });
});

describe("policy/README.md", () => {
  test("lists every rule with its file", async () => {
    const readme = await Bun.file(new URL("../README.md", import.meta.url)).text();
    // Biome pads the table cells, so match the id cell loosely.
    const listed = new Set([...readme.matchAll(/^\| `([^`]+)`\s+\|/gm)].map((m) => m[1]));
    const missing = ALL_RULES.filter((r) => !listed.has(r.id)).map((r) => r.id);
    expect(missing).toEqual([]);
  });
});
