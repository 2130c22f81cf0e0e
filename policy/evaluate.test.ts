// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform JSON fixtures are full of ${...} expressions by design
import { describe, expect, test } from "bun:test";
import { evaluatePolicy, PolicyError } from "./evaluate.ts";
import { NOISE_SUPPRESSIONS, secureStack, secureStackWith } from "./fixtures/secure-stack.ts";
import { ALL_RULES } from "./rules/index.ts";

const violatedIds = (tf: object, suppressions = NOISE_SUPPRESSIONS) =>
  [...new Set(evaluatePolicy(tf, { suppressions }).violations.map((v) => v.ruleId))].sort();

describe("evaluatePolicy", () => {
  test("the secure stack with the documented noise opt-outs has no violations and reports every rule", () => {
    const report = evaluatePolicy(secureStack(), { suppressions: NOISE_SUPPRESSIONS });
    expect(report.violations).toEqual([]);
    expect(new Set(report.results.map((r) => r.ruleId))).toEqual(new Set(ALL_RULES.map((r) => r.id)));
  });

  test("without opt-outs only the noise rules fail", () => {
    expect(violatedIds(secureStack(), [])).toEqual(["CKV_AWS_157", "CKV_AWS_18"]);
  });

  test("a stack with several problems reports each broken rule once per resource", () => {
    const tf = secureStackWith((t) => {
      t.resource.aws_instance.jumphost.metadata_options.http_tokens = "optional";
      t.resource.aws_instance.jumphost.key_name = "ops";
      t.resource.aws_db_instance.db.publicly_accessible = true;
      t.resource.aws_kms_key.key.enable_key_rotation = false;
      t.resource.aws_internet_gateway = { igw: { vpc_id: "${aws_vpc.vpc.id}" } };
    });
    expect(violatedIds(tf)).toEqual(
      ["CKV_AWS_17", "CKV_AWS_7", "CKV_AWS_79", "DBT-HOST-1", "DBT-INGRESS-5"].sort(),
    );
    const report = evaluatePolicy(tf, { suppressions: NOISE_SUPPRESSIONS });
    expect(report.violations.find((v) => v.ruleId === "CKV_AWS_79")?.resource).toBe("aws_instance.jumphost");
    expect(report.violations.every((v) => v.fix.length > 0 && v.aliases !== undefined)).toBe(true);
  });

  test("does not modify its input", () => {
    const tf = secureStack();
    const before = JSON.stringify(tf);
    evaluatePolicy(tf, { suppressions: NOISE_SUPPRESSIONS });
    expect(JSON.stringify(tf)).toBe(before);
  });

  test("accepts any object, even one without resources", () => {
    const report = evaluatePolicy({});
    expect(report.violations).toEqual([]);
    expect(report.results.every((r) => r.status === "not-applicable")).toBe(true);
  });
});

describe("suppressions", () => {
  test("turn a rule's violations into suppressed results carrying the reason", () => {
    const report = evaluatePolicy(secureStack(), { suppressions: NOISE_SUPPRESSIONS });
    const s = report.results.filter((r) => r.status === "suppressed");
    expect(s.map((r) => r.ruleId).sort()).toEqual(["CKV_AWS_157", "CKV_AWS_18"]);
    expect(s.find((r) => r.ruleId === "CKV_AWS_157")?.message).toContain("suppressed: dev profile");
  });

  test("leave compliant results of the suppressed rule compliant", () => {
    const report = evaluatePolicy(secureStack(), {
      suppressions: [{ ruleId: "CKV_AWS_7", reason: "testing" }],
    });
    expect(report.results.find((r) => r.ruleId === "CKV_AWS_7")?.status).toBe("compliant");
  });

  test("match an alias as well as the primary id", () => {
    const report = evaluatePolicy(secureStack(), {
      suppressions: [
        { ruleId: "CKV_AWS_118", reason: "dev profile" },
        { ruleId: "CKV_AWS_144", reason: "log bucket" },
      ],
    });
    expect(report.violations).toEqual([]);
  });

  test("only silence the named rule", () => {
    const tf = secureStackWith((t) => {
      t.resource.aws_kms_key.key.enable_key_rotation = false;
    });
    expect(violatedIds(tf)).toEqual(["CKV_AWS_7"]);
  });

  test("need a reason", () => {
    expect(() =>
      evaluatePolicy(secureStack(), { suppressions: [{ ruleId: "CKV_AWS_157", reason: "  " }] }),
    ).toThrow(/policy suppression for CKV_AWS_157 has no reason/);
    expect(() =>
      evaluatePolicy(secureStack(), { suppressions: [{ ruleId: "CKV_AWS_157" } as never] }),
    ).toThrow(PolicyError);
  });

  test("reject an unknown rule id", () => {
    expect(() =>
      evaluatePolicy(secureStack(), { suppressions: [{ ruleId: "CKV_AWS_9999", reason: "typo" }] }),
    ).toThrow(/unknown rule id "CKV_AWS_9999"/);
  });

  test("reject a missing rule id", () => {
    expect(() => evaluatePolicy(secureStack(), { suppressions: [{ ruleId: "", reason: "x" }] })).toThrow(
      /without a ruleId/,
    );
  });

  test("errors are one line", () => {
    try {
      evaluatePolicy({}, { suppressions: [{ ruleId: "nope", reason: "x" }] });
      throw new Error("expected a PolicyError");
    } catch (e) {
      expect(e).toBeInstanceOf(PolicyError);
      expect((e as Error).message).not.toContain("\n");
    }
  });
});
