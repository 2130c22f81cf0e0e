import { readdirSync, readFileSync } from "node:fs";
import type { Subprocess } from "bun";

/**
 * Runs a sandbox child (moto, postgres) so that it can never outlive its owner.
 *
 * Each child is started through a tiny `sh` watchdog in its own session/process group (`setsid`):
 * the watchdog holds the read end of a pipe whose write end only this Bun process has. When the owner
 * exits for any reason — stop(), a crash, `kill -9` — the kernel closes the write end, the watchdog
 * reads EOF and sends the child its graceful stop signal, then SIGKILLs the whole group after a grace
 * period. No polling, and no fixed sleeps on the happy path.
 */
const WATCHDOG = `
log=$1; sig=$2; grace=$3; shift 3
exec >>"$log" 2>&1
exec 3<&0
"$@" </dev/null 3<&- &
child=$!
{ cat <&3 >/dev/null; exec 3<&-; kill -s "$sig" "$child" 2>/dev/null; sleep "$grace"; kill -s KILL 0; } &
exec 3<&-
wait "$child"
status=$?
# The child is gone: end the rest of our group (watcher, its cat/sleep, any grandchild) but not ourselves.
trap '' TERM
kill -s TERM 0 2>/dev/null
exit $status
`;

export interface SuperviseOptions {
  /** Short name used in error messages, e.g. "moto". */
  readonly name: string;
  /** argv of the child. */
  readonly cmd: readonly string[];
  /** File that receives the child's stdout and stderr (appended). */
  readonly logPath: string;
  /** Signal that asks the child to stop cleanly (postgres: INT = fast shutdown). @default "TERM" */
  readonly stopSignal?: "TERM" | "INT" | "QUIT";
  /** Seconds between the stop signal and SIGKILL of the whole process group. @default 5 */
  readonly graceSeconds?: number;
  readonly env?: Record<string, string | undefined>;
  readonly cwd?: string;
}

export interface Supervised {
  readonly name: string;
  /** pid of the watchdog; also the process group id of the watchdog and the child. */
  readonly pgid: number;
  /** Resolves with the child's exit status once the watchdog has exited. */
  readonly exited: Promise<number>;
  /** True until the watchdog has exited. */
  isRunning(): boolean;
  /** Graceful stop, then SIGKILL of the group if it is still there after the grace period. */
  stop(): Promise<void>;
}

export function supervise(opts: SuperviseOptions): Supervised {
  const graceSeconds = opts.graceSeconds ?? 5;
  const proc: Subprocess<"pipe", "ignore", "ignore"> = Bun.spawn({
    cmd: [
      "setsid",
      "sh",
      "-c",
      WATCHDOG,
      "sandbox-watchdog",
      opts.logPath,
      opts.stopSignal ?? "TERM",
      String(graceSeconds),
      ...opts.cmd,
    ],
    stdin: "pipe",
    stdout: "ignore",
    stderr: "ignore",
    env: opts.env ?? process.env,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  });
  let running = true;
  const exited = proc.exited.then((code) => {
    running = false;
    return code;
  });
  let stopping: Promise<void> | undefined;
  return {
    name: opts.name,
    pgid: proc.pid,
    exited,
    isRunning: () => running,
    stop() {
      stopping ??= (async () => {
        // Closing our end of the pipe is the stop request; the watchdog does the rest.
        try {
          proc.stdin.end();
        } catch {
          // Already closed: the watchdog is on its way out.
        }
        const timer = setTimeout(() => killGroup(proc.pid), (graceSeconds + 2) * 1000);
        await exited;
        clearTimeout(timer);
        // Children the child forked (postgres backends) share the group: make sure none is left.
        killGroup(proc.pid);
        await waitGroupGone(proc.pid);
      })();
      return stopping;
    },
  };
}

/** SIGKILL a whole process group; silent when it is already gone. */
export function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // ESRCH: nothing left in the group.
  }
}

/** Waits (briefly) until SIGKILLed members of a group have actually died. */
export async function waitGroupGone(pgid: number, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pgid)) {
    if (Date.now() > deadline) return false;
    await Bun.sleep(10);
  }
  return true;
}

/** True if a process with this pid exists (signal 0 probes without delivering anything). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Live (non-zombie) pids of a process group, read from /proc. Zombies are ignored on purpose: on some
 * machines pid 1 never reaps orphans, and a zombie holds no port, file or memory.
 */
export function livePidsInGroup(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited while we looked
    }
    // Fields after the parenthesised command name: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" && Number(fields[2]) === pgid) pids.push(Number(entry));
  }
  return pids;
}

/** True if any non-zombie process of the group is alive. */
export function groupAlive(pgid: number): boolean {
  return livePidsInGroup(pgid).length > 0;
}
