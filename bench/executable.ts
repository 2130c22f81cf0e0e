#!/usr/bin/env bun
/**
 * The standalone executable (scripts/build.ts, linux-x64 on this machine): file size, and start time of
 * `--version` and `--help` (wall clock, median of N runs), next to the same commands run from source by
 * Bun (`bun cli/main.ts`) in the same run. Target: well under 100 ms. Prints figures; asserts nothing.
 *
 *   bun bench/executable.ts [runs=15]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildExecutable } from "../scripts/build.ts";
import { reportFigures } from "./figures.ts";

const TARGET_MS = 100;
const runs = Number(process.argv[2] ?? 15);
if (!Number.isInteger(runs) || runs < 1) {
  console.error("usage: bun bench/executable.ts [runs]   (runs: a positive integer)");
  process.exit(2);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function startMs(command: string[]): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const child = Bun.spawn(command, { stdout: "ignore", stderr: "ignore", env: { PATH: "/usr/bin:/bin" } });
    const code = await child.exited;
    samples.push(performance.now() - started);
    if (code !== 0) throw new Error(`${command.join(" ")} exited ${code}`);
  }
  return median(samples);
}

const dir = mkdtempSync(join(tmpdir(), "dbtunnel-bench-exe-"));
try {
  const buildStarted = performance.now();
  const executable = await buildExecutable("linux-x64", dir);
  const buildMs = performance.now() - buildStarted;
  const sizeMb = statSync(executable).size / 1024 / 1024;
  const source = [process.execPath, join(import.meta.dir, "..", "cli", "main.ts")];
  const version = await startMs([executable, "--version"]);
  const help = await startMs([executable, "--help"]);
  const versionSource = await startMs([...source, "--version"]);
  const helpSource = await startMs([...source, "--help"]);

  console.log(
    `standalone executable, linux-x64 (${runs} runs each, median; load ${loadavg()[0]?.toFixed(1)})`,
  );
  console.log(`  size                       ${sizeMb.toFixed(1)} MB (Bun runtime + the bundled CLI)`);
  console.log(`  build                      ${(buildMs / 1000).toFixed(1)} s`);
  console.log(
    `  --version start            ${version.toFixed(0)} ms   from source ${versionSource.toFixed(0)} ms   ratio ${(version / versionSource).toFixed(2)}   target ${TARGET_MS} ms`,
  );
  console.log(
    `  --help start               ${help.toFixed(0)} ms   from source ${helpSource.toFixed(0)} ms   ratio ${(help / helpSource).toFixed(2)}   target ${TARGET_MS} ms`,
  );
  reportFigures("executable", [
    { name: "linux-x64 executable size", value: sizeMb, unit: "MB" },
    {
      name: "--version start",
      value: version,
      unit: "ms",
      baseline: { name: "bun cli/main.ts", value: versionSource },
      target: { value: TARGET_MS, better: "lower" },
    },
    {
      name: "--help start",
      value: help,
      unit: "ms",
      baseline: { name: "bun cli/main.ts", value: helpSource },
      target: { value: TARGET_MS, better: "lower" },
    },
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
