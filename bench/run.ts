#!/usr/bin/env bun
/**
 * `npm run bench`: every benchmark of bench/, one after the other (they would distort each other's figures
 * if run together), each in its own process, then one table of the headline figures with their same-run
 * baselines, ratios and targets. Each benchmark's own detailed output streams first.
 *
 *   npm run bench                      # all of them (several minutes; the machine should be idle)
 *   npm run bench -- executable synth  # only these
 *   npm run bench -- --quiet           # only the final table
 *
 * Exit status: 1 if a benchmark failed or reported no figure; a missed target is reported, not fatal
 * (figures depend on the machine and its load).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { FIGURES_FILE_VARIABLE, parseFigures, type ReportedFigure, renderFigures } from "./figures.ts";

/** Benchmark files in the order they run: the cheapest first, so a broken setup shows early. */
export const BENCHMARKS = [
  "executable",
  "sandbox-up",
  "synth",
  "connect",
  "tunnel",
  "tunnel-faithful",
  "tunnel-memory",
  "proxy",
] as const;

const args = process.argv.slice(2);
const quiet = args.includes("--quiet");
const names = args.filter((a) => !a.startsWith("-"));
const unknown = names.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(", ")} (known: ${BENCHMARKS.join(", ")})`);
  process.exit(2);
}
const selected = names.length > 0 ? names : [...BENCHMARKS];

const dir = mkdtempSync(join(tmpdir(), "dbtunnel-bench-"));
const figures: ReportedFigure[] = [];
const failures: string[] = [];
const started = performance.now();
try {
  for (const name of selected) {
    const file = join(dir, `${name}.jsonl`);
    if (!quiet) console.log(`\n=== bench/${name}.ts`);
    const child = Bun.spawn([process.execPath, join(import.meta.dir, `${name}.ts`)], {
      cwd: join(import.meta.dir, ".."),
      env: { ...process.env, [FIGURES_FILE_VARIABLE]: file },
      stdout: quiet ? "ignore" : "inherit",
      stderr: "inherit",
    });
    const code = await child.exited;
    let reported: ReportedFigure[] = [];
    try {
      reported = parseFigures(readFileSync(file, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (code !== 0) failures.push(`${name} exited ${code}`);
    else if (reported.length === 0) failures.push(`${name} reported no figure`);
    figures.push(...reported);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const minutes = ((performance.now() - started) / 60_000).toFixed(1);
console.log(
  `\nAll benchmarks (${minutes} min; load average ${loadavg()[0]?.toFixed(1)} on ${navigator.hardwareConcurrency} cores). ratio = value / baseline measured in the same run.\n`,
);
console.log(renderFigures(figures));
if (failures.length > 0) {
  console.error(`\nbench: ${failures.join("; ")}`);
  process.exit(1);
}
