#!/usr/bin/env bun
/**
 * `npm run build`: standalone `dbtunnel` executables (Bun's compile mode: Bun itself + the bundled CLI in
 * one file, nothing else needed on the machine) under dist/, one per target. Each holds every command and
 * the session-manager-plugin drop-in (run it under that name, or `dbtunnel session-manager-plugin`).
 * The git commit is compiled in for `dbtunnel --version`. Bun fetches each cross-target's runtime from the
 * npm registry (@oven/bun-<target>) on first use and caches it.
 *
 *   npm run build                          # every target
 *   npm run build -- linux-x64 darwin-arm64 # only these
 *   npm run build -- --outdir /tmp/x linux-x64
 *
 * After building, each file's format (ELF / Mach-O / PE and the CPU) is checked against its target.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { gitCommit } from "../cli/version.ts";
import { checkExecutableFormat, TARGETS, type Target } from "./executable-format.ts";

const root = resolve(import.meta.dir, "..");

/** dist/dbtunnel-<target>[.exe] */
export function executableName(target: Target): string {
  return `dbtunnel-${target}${target.startsWith("windows") ? ".exe" : ""}`;
}

export async function buildExecutable(target: Target, outdir: string): Promise<string> {
  const outfile = join(outdir, executableName(target));
  const define = JSON.stringify({ commit: gitCommit(root), target });
  const child = Bun.spawn(
    [
      process.execPath,
      "build",
      "--compile",
      "--minify",
      // Each command in its own chunk: `--help` and `--version` load only the router (well under 100 ms).
      "--splitting",
      `--target=bun-${target}`,
      `--define=DBTUNNEL_BUILD=${define}`,
      join(root, "cli", "main.ts"),
      "--outfile",
      outfile,
    ],
    { cwd: root, stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) {
    throw new Error(
      `bun build for ${target} failed (exit ${code}): ${(stderr || stdout).trim().split("\n").slice(-5).join(" | ")}`,
    );
  }
  checkExecutableFormat(outfile, target);
  return outfile;
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const outdirAt = args.indexOf("--outdir");
  const outdir = resolve(outdirAt === -1 ? join(root, "dist") : (args[outdirAt + 1] ?? "dist"));
  const names = args.filter((a, i) => !a.startsWith("-") && i !== outdirAt + 1);
  const unknown = names.filter((n) => !(TARGETS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    console.error(`build: unknown target ${unknown.join(", ")} (targets: ${TARGETS.join(", ")})`);
    process.exit(2);
  }
  const targets = (names.length > 0 ? names : [...TARGETS]) as Target[];
  mkdirSync(outdir, { recursive: true });
  for (const target of targets) {
    const started = performance.now();
    try {
      const file = await buildExecutable(target, outdir);
      const mb = (Bun.file(file).size / 1024 / 1024).toFixed(1);
      console.log(`${file}  ${mb} MB  format ok  ${((performance.now() - started) / 1000).toFixed(1)} s`);
    } catch (error) {
      console.error(`build: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  }
}
