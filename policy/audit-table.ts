import type { PolicyReport, RuleResult, RuleStatus } from "./types.ts";

const ORDER: Record<RuleStatus, number> = {
  "non-compliant": 0,
  suppressed: 1,
  compliant: 2,
  "not-applicable": 3,
};
const LABEL: Record<RuleStatus, string> = {
  "non-compliant": "FAIL",
  suppressed: "SUPPRESSED",
  compliant: "PASS",
  "not-applicable": "N/A",
};

function detail(r: RuleResult): string {
  return r.status === "non-compliant" ? `${r.message}. Fix: ${r.fix}` : r.message;
}

function idWithAliases(r: RuleResult): string {
  return r.aliases.length > 0 ? `${r.ruleId} (${r.aliases.join(", ")})` : r.ruleId;
}

/** Counts results by status, in the wording of the summary line. */
export function summarize(report: PolicyReport): string {
  const n = (s: RuleStatus) => report.results.filter((r) => r.status === s).length;
  return `${n("compliant")} passed, ${n("non-compliant")} failed, ${n("not-applicable")} not applicable, ${n("suppressed")} suppressed`;
}

/**
 * Plain-text table for terminals and CI logs: violations first (what to act on), then suppressed,
 * passed and not applicable; the last column is not padded so long fixes wrap naturally.
 */
export function renderAuditTable(report: PolicyReport): string {
  const rows = report.results
    .map((r, i) => ({ r, i }))
    .sort((a, b) => ORDER[a.r.status] - ORDER[b.r.status] || a.i - b.i)
    .map(({ r }) => [idWithAliases(r), LABEL[r.status], r.resource ?? "-", detail(r)] as const);
  const header = ["RULE", "STATUS", "RESOURCE", "DETAIL"] as const;
  const widths = [0, 1, 2].map((c) =>
    Math.max(header[c]?.length ?? 0, ...rows.map((row) => row[c]?.length ?? 0)),
  );
  const line = (cols: readonly string[]) =>
    cols
      .map((c, i) => (i < 3 ? c.padEnd(widths[i] ?? 0) : c))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line), "", summarize(report)].join("\n");
}
