/**
 * How long a sandbox takes from startSandbox() to ready, per part, against the 5 s target (issue 4), and
 * how long stop() takes. Prints figures and ratios; asserts nothing (machines differ, load differs).
 *
 * Usage: bun bench/sandbox-up.ts [runs=3]
 */
import { startSandbox } from "../sandbox/index.ts";
import { reportFigures } from "./figures.ts";

const TARGET_MS = 5000;
const runs = Number(process.argv[2] ?? 3);
if (!Number.isInteger(runs) || runs < 1) {
  console.error("usage: bun bench/sandbox-up.ts [runs]   (runs: a positive integer)");
  process.exit(2);
}

const rows: Array<Record<string, number>> = [];
for (let i = 0; i < runs; i++) {
  const sandbox = await startSandbox({ log: () => {} });
  const stopStart = performance.now();
  await sandbox.stop();
  rows.push({ ...sandbox.timings, stop: Math.round(performance.now() - stopStart) });
}

const parts = ["cleanupStale", "ca", "ldap", "moto", "postgres", "gateway", "total", "stop"];
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
};
console.log(
  `sandbox start-up, ${runs} run(s), ms (moto and postgres start in parallel; total is wall clock)`,
);
console.log(
  `${"part".padEnd(13)}${rows.map((_, i) => `run${i + 1}`.padStart(8)).join("")}${"median".padStart(9)}`,
);
for (const part of parts) {
  const values = rows.map((r) => r[part] ?? 0);
  console.log(
    `${part.padEnd(13)}${values.map((v) => String(v).padStart(8)).join("")}${String(median(values)).padStart(9)}`,
  );
}
const total = median(rows.map((r) => r.total ?? 0));
console.log(
  `\nmedian total ${total} ms vs target ${TARGET_MS} ms: ratio ${(total / TARGET_MS).toFixed(2)} (≤ 1.00 meets the target)`,
);
reportFigures("sandbox-up", [
  {
    name: "sandbox start to ready (median)",
    value: total,
    unit: "ms",
    target: { value: TARGET_MS, better: "lower" },
  },
  { name: "sandbox stop (median)", value: median(rows.map((r) => r.stop ?? 0)), unit: "ms" },
]);
