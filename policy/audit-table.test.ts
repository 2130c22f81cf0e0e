import { describe, expect, test } from "bun:test";
import { renderAuditTable } from "./audit-table.ts";
import { evaluatePolicy } from "./evaluate.ts";
import { NOISE_SUPPRESSIONS, secureStackWith } from "./fixtures/secure-stack.ts";
import type { PolicyReport } from "./types.ts";

const report = (): PolicyReport =>
  evaluatePolicy(
    secureStackWith((tf) => {
      tf.resource.aws_kms_key.key.enable_key_rotation = false;
    }),
    { suppressions: NOISE_SUPPRESSIONS },
  );

describe("renderAuditTable", () => {
  test("puts violations first, then suppressed, passed and not applicable", () => {
    const lines = renderAuditTable(report()).split("\n");
    expect(lines[0]).toMatch(/^RULE\s+STATUS\s+RESOURCE\s+DETAIL$/);
    expect(lines[1]).toMatch(
      /^CKV_AWS_7 \(AVD-AWS-0065\)\s+FAIL\s+aws_kms_key\.key\s+enable_key_rotation is not true\. Fix: Set enable_key_rotation = true/,
    );
    const statuses = lines.slice(1, -2).map((l) => (/\s(FAIL|SUPPRESSED|PASS|N\/A)\s/.exec(l) ?? [])[1]);
    const rank = { FAIL: 0, SUPPRESSED: 1, PASS: 2, "N/A": 3 } as Record<string, number>;
    const ranks = statuses.map((s) => rank[s ?? ""] ?? -1);
    expect(ranks.every((r) => r >= 0)).toBe(true);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  });

  test("ends with the summary line", () => {
    const r = report();
    const lines = renderAuditTable(r).split("\n");
    const count = (s: string) => r.results.filter((x) => x.status === s).length;
    expect(lines.at(-1)).toBe(
      `${count("compliant")} passed, 1 failed, ${count("not-applicable")} not applicable, 2 suppressed`,
    );
    expect(lines.at(-2)).toBe("");
  });

  test("aligns the columns and shows - for stack-level results", () => {
    const text = renderAuditTable({
      results: [
        {
          ruleId: "DBT-NET-1",
          aliases: [],
          status: "non-compliant",
          message: "no interface endpoint for ssm",
          fix: "Add it.",
        },
        {
          ruleId: "CKV_AWS_7",
          aliases: ["AVD-AWS-0065"],
          status: "compliant",
          resource: "aws_kms_key.k",
          message: "rotation on",
          fix: "x",
        },
      ],
      violations: [],
    });
    expect(text.split("\n")).toEqual([
      "RULE                      STATUS  RESOURCE       DETAIL",
      "DBT-NET-1                 FAIL    -              no interface endpoint for ssm. Fix: Add it.",
      "CKV_AWS_7 (AVD-AWS-0065)  PASS    aws_kms_key.k  rotation on",
      "",
      "1 passed, 1 failed, 0 not applicable, 0 suppressed",
    ]);
  });
});
