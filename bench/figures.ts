/**
 * The one shape every benchmark reports its headline figures in, so `npm run bench` (bench/run.ts) can
 * print them all in one table. A benchmark still prints its own detailed output; it also calls
 * reportFigures() once at the end. Outside bench/run.ts (no DBTUNNEL_BENCH_FIGURES) that is a no-op.
 */
import { appendFileSync } from "node:fs";

/** The file bench/run.ts hands to each benchmark; one JSON figure per line. */
export const FIGURES_FILE_VARIABLE = "DBTUNNEL_BENCH_FIGURES";

export interface Figure {
  /** What was measured, e.g. "tunnel upload". */
  readonly name: string;
  readonly value: number;
  /** "ms", "MB/s", "MB", "tps", "count"... */
  readonly unit: string;
  /** The same figure measured in the same run without dbtunnel (direct connection, AWS CLI...). */
  readonly baseline?: { readonly name: string; readonly value: number };
  /** The target from the issues, and which direction meets it. */
  readonly target?: { readonly value: number; readonly better: "lower" | "higher" };
}

export interface ReportedFigure extends Figure {
  /** The benchmark file that measured it, e.g. "tunnel". */
  readonly bench: string;
}

export function reportFigures(bench: string, figures: readonly Figure[]): void {
  const file = process.env[FIGURES_FILE_VARIABLE];
  if (!file) return;
  appendFileSync(file, figures.map((figure) => `${JSON.stringify({ bench, ...figure })}\n`).join(""));
}

/** Parses what reportFigures wrote; a malformed line is an error (a benchmark is broken). */
export function parseFigures(text: string): ReportedFigure[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const figure = JSON.parse(line) as ReportedFigure;
      if (typeof figure.bench !== "string" || typeof figure.name !== "string") {
        throw new Error(`benchmark figure without bench/name: ${line}`);
      }
      if (typeof figure.value !== "number" || typeof figure.unit !== "string") {
        throw new Error(`benchmark figure ${figure.bench}/${figure.name} has no numeric value and unit`);
      }
      return figure;
    });
}

/** ratio = value / baseline (how many times the baseline); meets = the target's direction holds. */
export function figureRow(figure: ReportedFigure): {
  readonly ratio: number | undefined;
  readonly targetRatio: number | undefined;
  readonly meets: boolean | undefined;
} {
  const ratio =
    figure.baseline && figure.baseline.value !== 0 ? figure.value / figure.baseline.value : undefined;
  if (!figure.target) return { ratio, targetRatio: undefined, meets: undefined };
  const targetRatio = figure.target.value === 0 ? undefined : figure.value / figure.target.value;
  const meets =
    figure.target.better === "lower"
      ? figure.value <= figure.target.value
      : figure.value >= figure.target.value;
  return { ratio, targetRatio, meets };
}

/** One table, aligned columns, for a terminal or a log. */
export function renderFigures(figures: readonly ReportedFigure[]): string {
  const number = (n: number) =>
    Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2);
  const rows = figures.map((figure) => {
    const { ratio, meets } = figureRow(figure);
    return [
      figure.bench,
      figure.name,
      `${number(figure.value)} ${figure.unit}`,
      figure.baseline ? `${number(figure.baseline.value)} (${figure.baseline.name})` : "",
      ratio === undefined ? "" : `${ratio.toFixed(2)}x`,
      figure.target ? `${figure.target.better === "lower" ? "≤" : "≥"} ${number(figure.target.value)}` : "",
      meets === undefined ? "" : meets ? "yes" : "NO",
    ];
  });
  const header = ["bench", "figure", "value", "baseline (same run)", "ratio", "target", "meets"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
