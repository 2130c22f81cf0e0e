/**
 * What `dbtunnel --version` says: the package version, the git commit it was built from, and the
 * Session Manager client version the native tunnel announces to the agent (the agent picks its protocol
 * features from it, so a bug report needs it).
 *
 * A standalone executable (scripts/build.ts) has the commit compiled in through `--define`; run from a
 * clone, the commit is read from git on demand (only `--version` pays for that).
 */
import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { CLIENT_VERSION } from "../tunnel/version.ts";

/** Same as package.json's "version" (cli/version.test.ts keeps them equal). */
export const VERSION = "0.1.0";

/** Set by scripts/build.ts with `bun build --define`; absent when running from source. */
declare const DBTUNNEL_BUILD: { readonly commit: string; readonly target: string } | undefined;

export interface BuildInfo {
  readonly version: string;
  /** Short commit hash, "+dirty" when built from uncommitted changes; "unknown" without git. */
  readonly commit: string;
  /** "linux-x64"... for a standalone executable; "source" when run by Bun from a clone. */
  readonly build: string;
  readonly sessionManagerClient: string;
}

/** The build facts compiled into a standalone executable; undefined when running from source. */
export function standaloneBuild(): { readonly commit: string; readonly target: string } | undefined {
  return typeof DBTUNNEL_BUILD === "undefined" ? undefined : DBTUNNEL_BUILD;
}

export function buildInfo(): BuildInfo {
  const compiled = standaloneBuild();
  return {
    version: VERSION,
    commit: compiled?.commit ?? gitCommit(resolve(dirname(import.meta.path), "..")),
    build: compiled?.target ?? "source",
    sessionManagerClient: CLIENT_VERSION,
  };
}

export function versionText(info: BuildInfo = buildInfo()): string {
  return [
    `dbtunnel ${info.version} (commit ${info.commit}, ${info.build === "source" ? "run from source" : `standalone ${info.build}`})`,
    `Session Manager client ${info.sessionManagerClient} (the version announced to the agent)`,
  ].join("\n");
}

/** `git describe`-like short hash of the checkout at `dir`, with "+dirty" for uncommitted changes. */
export function gitCommit(dir: string): string {
  const git = (...args: string[]) =>
    spawnSync("git", ["-C", dir, ...args], { encoding: "utf8", timeout: 5000 });
  const head = git("rev-parse", "--short=12", "HEAD");
  if (head.status !== 0 || !head.stdout.trim()) return "unknown";
  const dirty = git("status", "--porcelain", "--untracked-files=no");
  return `${head.stdout.trim()}${dirty.status === 0 && dirty.stdout.trim() !== "" ? "+dirty" : ""}`;
}
