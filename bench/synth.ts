#!/usr/bin/env bun
/**
 * Synth benchmark: wall time and peak RSS of synthesizing the full app (every stack of
 * dbtunnel.config.json, or DBTUNNEL_CONFIG) in-process under Bun, and of `npx cdktf synth` (Node CLI,
 * which itself runs `bun run main.ts`). Prints figures and the ratio to the targets (≤ 0.5 s, ≤ 150 MB
 * for the in-process synth); no assertions.
 *
 *   bun bench/synth.ts [--runs 5] [--skip-cli]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { terraformEnv } from "../stacks/terraform-env.ts";
import { type Figure, reportFigures } from "./figures.ts";

const TARGET_MS = 500;
const TARGET_MB = 150;
const root = resolve(import.meta.dir, "..");
const configPath = process.env.DBTUNNEL_CONFIG ?? join(root, "dbtunnel.config.json");

if (process.argv.includes("--child")) {
  // Measured from inside: module loading (the provider classes are most of it) + building + synth.
  const start = performance.now();
  const { loadConfig } = await import("../stacks/config.ts");
  const { buildApp } = await import("../stacks/app.ts");
  const outdir = process.argv[process.argv.indexOf("--child") + 1] ?? "cdktf.out";
  buildApp(loadConfig(configPath), { outdir }).synth();
  const ms = performance.now() - start;
  // CPU time too: on a loaded machine wall time mostly measures the scheduler.
  const cpu = process.cpuUsage();
  console.log(
    JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, maxRss: process.resourceUsage().maxRSS }),
  );
  process.exit(0);
}

const runsArg = process.argv.indexOf("--runs");
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mb = (bytes: number) => bytes / 1024 / 1024;
const fmt = (n: number, digits = 0) => n.toFixed(digits);
const out = mkdtempSync(join(tmpdir(), "dbtunnel-bench-synth-"));

try {
  const inside: number[] = [];
  const cpuMs: number[] = [];
  const wall: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const child = Bun.spawn([process.execPath, import.meta.path, "--child", join(out, `run-${i}`)], {
      cwd: root,
      stdout: "pipe",
      stderr: "inherit",
    });
    const text = await new Response(child.stdout).text();
    if ((await child.exited) !== 0) throw new Error("in-process synth failed (see stderr above)");
    wall.push(performance.now() - t0);
    const result = JSON.parse(text.trim().split("\n").pop() ?? "{}") as {
      ms: number;
      cpuMs: number;
      maxRss: number;
    };
    inside.push(result.ms);
    cpuMs.push(result.cpuMs);
    // maxRSS: Bun reports bytes; take the larger of the child's own and the OS's view.
    rss.push(Math.max(result.maxRss, child.resourceUsage()?.maxRSS ?? 0));
  }
  const ms = median(inside);
  const peak = Math.max(...rss);
  console.log(`in-process synth under Bun (${runs} runs, median):`);
  console.log(
    `  synth (imports + build + synth): ${fmt(ms)} ms   target ${TARGET_MS} ms   ratio ${fmt(ms / TARGET_MS, 2)}`,
  );
  console.log(
    `  CPU time of the whole process:   ${fmt(median(cpuMs))} ms   (wall/CPU ${fmt(ms / median(cpuMs), 2)}: >1 means waiting for a core)`,
  );
  console.log(`  process wall (incl. Bun start):  ${fmt(median(wall))} ms`);
  console.log(
    `  machine load average:            ${(await import("node:os")).loadavg()[0]?.toFixed(1)} on ${navigator.hardwareConcurrency} cores`,
  );
  console.log(
    `  peak RSS:                        ${fmt(mb(peak))} MB   target ${TARGET_MB} MB   ratio ${fmt(mb(peak) / TARGET_MB, 2)}`,
  );

  const figures: Figure[] = [
    {
      name: "in-process synth (median)",
      value: ms,
      unit: "ms",
      target: { value: TARGET_MS, better: "lower" },
    },
    {
      name: "in-process synth peak RSS",
      value: mb(peak),
      unit: "MB",
      target: { value: TARGET_MB, better: "lower" },
    },
  ];
  if (!process.argv.includes("--skip-cli")) {
    // GNU time's %M is the largest RSS of the process tree's members (kB), %e the wall seconds.
    const child = Bun.spawn(
      ["/usr/bin/time", "-f", "TIME %e %M", "npx", "cdktf", "synth", "--output", join(out, "cli")],
      {
        cwd: root,
        env: { ...process.env, ...terraformEnv() },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    const match = /TIME ([\d.]+) (\d+)/.exec(stderr);
    if (code !== 0 || !match) {
      console.log(
        `npx cdktf synth: failed (exit ${code}): ${stderr.trim().split("\n").slice(-3).join(" | ")}`,
      );
    } else {
      const seconds = Number(match[1]);
      const peakMb = Number(match[2]) / 1024;
      console.log("npx cdktf synth (Node CLI + bun app, 1 run):");
      figures.push({
        name: "npx cdktf synth wall",
        value: seconds * 1000,
        unit: "ms",
        baseline: { name: "in-process synth", value: ms },
      });
      console.log(
        `  wall: ${fmt(seconds * 1000)} ms   (${fmt((seconds * 1000) / TARGET_MS, 1)}x the in-process target)`,
      );
      console.log(
        `  peak RSS of the largest process: ${fmt(peakMb)} MB   (${fmt(peakMb / TARGET_MB, 2)}x target)`,
      );
    }
  }
  reportFigures("synth", figures);
} finally {
  rmSync(out, { recursive: true, force: true });
}
