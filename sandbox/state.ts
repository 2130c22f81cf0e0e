import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { groupAlive, killGroup, livePidsInGroup, pidAlive } from "./supervisor.ts";

/**
 * Every sandbox lives in its own directory under a root, with an `owner.json` naming the process that owns
 * it and the process groups of its children. A start first removes sandboxes whose owner is gone, so a
 * crashed test run or a `kill -9` never leaves moto, PostgreSQL or files behind for longer than that.
 */

export interface OwnerRecord {
  readonly pid: number;
  /** /proc/<pid>/stat starttime: tells a reused pid from the real owner. */
  readonly startTime: string;
  readonly pgids: number[];
}

/** Root for sandbox directories. Not under $HOME: the `postgres` user must traverse it when we are root. */
export function defaultSandboxRoot(): string {
  return join(tmpdir(), `dbtunnel-sandbox-${process.getuid?.() ?? "user"}`);
}

/** Start time of a process in clock ticks since boot, or undefined if it is gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o711 });
  const st = lstatSync(root);
  // /tmp is shared: refuse a root somebody else created or can write to.
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) {
    throw new Error(
      `sandbox root ${root} is not a private directory owned by you: remove it or set another root`,
    );
  }
  // Traversable (not listable) by others: PostgreSQL runs as the postgres user when we are root.
  if ((st.mode & 0o011) !== 0o011) chmodSync(root, (st.mode & 0o777) | 0o011);
}

/** Creates `<root>/sb-XXXXXX` (mode 0711 so the cluster's OS user can reach its own subdirectory). */
export function createSandboxDir(root: string): string {
  ensureRoot(root);
  const dir = mkdtempSync(join(root, "sb-"));
  chmodSync(dir, 0o711);
  writeOwner(dir, { pid: process.pid, startTime: processStartTime(process.pid) ?? "", pgids: [] });
  return dir;
}

export function writeOwner(dir: string, owner: OwnerRecord): void {
  writeFileSync(join(dir, "owner.json"), JSON.stringify(owner), { mode: 0o600 });
}

export function readOwner(dir: string): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, "owner.json"), "utf8")) as OwnerRecord;
  } catch {
    return undefined;
  }
}

/** Adds a child's process group to the owner record (so a later start can kill it if we die). */
export function recordChild(dir: string, pgid: number): void {
  const owner = readOwner(dir);
  if (owner) writeOwner(dir, { ...owner, pgids: [...owner.pgids, pgid] });
}

export function ownerAlive(owner: OwnerRecord): boolean {
  return pidAlive(owner.pid) && processStartTime(owner.pid) === owner.startTime;
}

/** True if the group still runs something started for this sandbox directory (guards against pgid reuse). */
function groupBelongsTo(pgid: number, dir: string): boolean {
  return livePidsInGroup(pgid).some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
    } catch {
      return false;
    }
  });
}

/**
 * Kills the children of a sandbox and removes its directory. Children still in their watchdog's grace
 * period get up to `graceMs` to finish a clean shutdown first: a SIGKILLed postmaster leaves its shared
 * memory segment behind.
 */
export function destroySandboxDir(dir: string, owner = readOwner(dir), graceMs = 3000): void {
  const groups = (owner?.pgids ?? []).filter((pgid) => groupAlive(pgid) && groupBelongsTo(pgid, dir));
  const deadline = Date.now() + graceMs;
  while (groups.some(groupAlive) && Date.now() < deadline) Bun.sleepSync(50);
  for (const pgid of groups) killGroup(pgid);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * For a process that is exiting and cannot wait: a detached `sh` removes the directory once the children
 * (which the watchdogs are stopping gracefully right now, as our pipes close) are gone, at most 15 s later.
 */
export function destroySandboxDirDetached(dir: string): void {
  const pgids = (readOwner(dir)?.pgids ?? []).map(String);
  const script = `dir=$1; shift
i=0
while [ $i -lt 150 ]; do
  alive=0
  for g in "$@"; do kill -0 -"$g" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break
  sleep 0.1; i=$((i+1))
done
rm -rf -- "$dir"`;
  const proc = Bun.spawn({
    cmd: ["setsid", "sh", "-c", script, "sandbox-cleaner", dir, ...pgids],
    stdio: ["ignore", "ignore", "ignore"],
  });
  proc.unref();
}

/**
 * Removes every sandbox under `root` whose owner process is gone (or that has no readable owner record and
 * is older than a minute, i.e. not one that is being created right now). Returns the removed directories.
 */
export function cleanupStaleSandboxes(root: string): string[] {
  if (!existsSync(root)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(root)) {
    if (!name.startsWith("sb-")) continue;
    const dir = join(root, name);
    const owner = readOwner(dir);
    if (owner ? ownerAlive(owner) : Date.now() - lstatSync(dir).mtimeMs < 60_000) continue;
    destroySandboxDir(dir, owner);
    removed.push(dir);
  }
  return removed;
}
