/**
 * Runs the real cdktf CLI (on Node: its node-pty does not load under Bun) and Terraform for the flow.
 *
 * Children run in their own process group (`setsid`), so a Ctrl-C in the terminal reaches only us: we
 * then interrupt Terraform ourselves (SIGINT = Terraform's graceful stop, which releases the state lock)
 * and go on to destroy, instead of racing a half-killed apply. Output goes to a log file; the caller sees
 * parsed progress and, on failure, the last meaningful lines.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { redact } from "../redact.ts";

export const PROJECT_ROOT = resolve(dirname(new URL(import.meta.url).pathname), "../..");
export const CDKTF_BIN = join(PROJECT_ROOT, "node_modules", "cdktf-cli", "bundle", "bin", "cdktf");

export interface RunOptions {
  readonly cmd: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Every output line is appended here (redacted). */
  readonly logPath: string;
  readonly onLine?: (line: string) => void;
  /** SIGINT to the group on abort, SIGKILL `graceMs` later. */
  readonly signal?: AbortSignal;
  /** Hard limit; the group gets SIGINT, then SIGKILL. @default 15 minutes */
  readonly timeoutMs?: number;
  /** @default 60 s: Terraform may need a while to stop an in-flight create cleanly. */
  readonly graceMs?: number;
}

export interface RunResult {
  readonly code: number;
  /** Last lines worth showing (errors), ANSI-free and redacted. */
  readonly tail: readonly string[];
  readonly timedOut: boolean;
  readonly interrupted: boolean;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escapes are exactly what we strip
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export async function runLogged(o: RunOptions): Promise<RunResult> {
  mkdirSync(dirname(o.logPath), { recursive: true });
  appendFileSync(o.logPath, `\n$ ${redact(o.cmd.join(" "))}\n`);
  const proc = Bun.spawn({
    cmd: ["setsid", ...o.cmd],
    cwd: o.cwd,
    env: o.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const tail: string[] = [];
  let timedOut = false;
  let interrupted = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  // cdktf runs terraform under node-pty, i.e. in a session (and process group) of its own: signal the
  // group of every descendant, which is what a Ctrl-C in terraform's own terminal would do.
  // Groups are remembered at the first signal: if cdktf exits first, terraform is re-parented to init
  // and would no longer show up as a descendant when the SIGKILL escalation comes.
  const groups = new Set<number>();
  const stopGroup = () => {
    for (const pgid of groupsOf(proc.pid)) groups.add(pgid);
    for (const pgid of groups) signalGroup(pgid, "SIGINT");
    killTimer ??= setTimeout(() => {
      for (const pgid of groups) signalGroup(pgid, "SIGKILL");
    }, o.graceMs ?? 60_000);
  };
  const onAbort = () => {
    interrupted = true;
    stopGroup();
  };
  o.signal?.addEventListener("abort", onAbort, { once: true });
  if (o.signal?.aborted) onAbort();
  const timeout = setTimeout(
    () => {
      timedOut = true;
      stopGroup();
    },
    o.timeoutMs ?? 15 * 60_000,
  );

  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let buffered = "";
    const flush = (line: string) => {
      const clean = redact(line.replace(ANSI, "").replace(/\r/g, "")).trimEnd();
      appendFileSync(o.logPath, `${clean}\n`);
      if (clean.trim() === "") return;
      tail.push(clean);
      if (tail.length > 60) tail.shift();
      o.onLine?.(clean);
    };
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      let newline = buffered.indexOf("\n");
      while (newline !== -1) {
        flush(buffered.slice(0, newline));
        buffered = buffered.slice(newline + 1);
        newline = buffered.indexOf("\n");
      }
    }
    if (buffered) flush(buffered);
  };
  await Promise.all([pump(proc.stdout), pump(proc.stderr)]);
  const code = await proc.exited;
  clearTimeout(timeout);
  if (killTimer) clearTimeout(killTimer);
  o.signal?.removeEventListener("abort", onAbort);
  // Terraform's provider plugins share the group: make sure none outlives the run.
  signalGroup(proc.pid, "SIGKILL");
  return { code, tail, timedOut, interrupted };
}

/** Process groups of `root` and all its live descendants, read from /proc. */
export function groupsOf(root: number): number[] {
  const parent = new Map<number, { ppid: number; pgid: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") parent.set(Number(entry), { ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // exited while we looked
    }
  }
  const groups = new Set<number>([root]);
  const family = new Set<number>([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, info] of parent) {
      if (!family.has(pid) && family.has(info.ppid)) {
        family.add(pid);
        groups.add(info.pgid);
        grew = true;
      }
    }
  }
  return [...groups];
}

function signalGroup(pgid: number, signal: "SIGINT" | "SIGKILL"): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** The lines that explain a Terraform/cdktf failure: the `Error:` blocks, else the last few lines. */
export function failureSummary(tail: readonly string[]): string {
  const errors = tail
    .map((line) => line.replace(/^.*?│\s?/, "").trim())
    .filter((line) => /^Error:|error:|ERROR/.test(line))
    .map((line) => line.replace(/^\[[^\]]+\]\s*\[ERROR\]\s*default\s*-\s*/, ""));
  const picked = errors.length > 0 ? [...new Set(errors)].slice(0, 3) : tail.slice(-3);
  return picked.join(" | ").slice(0, 600);
}

/**
 * Turns Terraform's apply/destroy lines into a progress string: "23/45 created · waiting on
 * aws_db_instance.database_db_1234 (2m40s)".
 */
export class ApplyProgress {
  private completed = 0;
  /** address → seconds Terraform has been waiting on it. */
  private readonly waiting = new Map<string, number>();

  constructor(
    private readonly verb: "created" | "destroyed",
    private readonly total: number | undefined,
  ) {}

  /** Feeds one output line; returns true when the progress text changed. */
  feed(line: string): boolean {
    // cdktf prefixes lines with the stack name; Terraform's own text follows the address.
    const m = /(\b[a-z0-9_]+\.[A-Za-z0-9_-]+(?:\[[^\]]+\])?)(?: \([^)]*\))?: (.*)$/.exec(line);
    if (!m) return false;
    const [, address = "", rest = ""] = m;
    if (/^(Creation|Destruction|Modifications) complete/.test(rest)) {
      this.completed++;
      this.waiting.delete(address);
      return true;
    }
    const still = /^Still (?:creating|destroying|modifying)\.\.\. \[(?:(\d+)m)?(\d+)s elapsed\]/.exec(rest);
    if (still) {
      this.waiting.set(address, Number(still[1] ?? 0) * 60 + Number(still[2] ?? 0));
      return true;
    }
    if (/^(Creating|Destroying|Modifying)\.\.\./.test(rest)) {
      this.waiting.set(address, 0);
      return true;
    }
    return false;
  }

  /** "23/45 created · waiting on <the resource Terraform has waited on longest> (2m40s)" */
  text(): string {
    const count = this.total
      ? `${this.completed}/${this.total} ${this.verb}`
      : `${this.completed} ${this.verb}`;
    let longest: [string, number] | undefined;
    for (const entry of this.waiting) if (!longest || entry[1] > longest[1]) longest = entry;
    if (!longest) return count;
    const [fullAddress, seconds] = longest;
    // cdktf's unique-id suffix (`_C6CE933A`) is noise for a human watching the wait.
    const address = fullAddress.replace(/_[0-9A-F]{8}(?=$|\[)/, "");
    const elapsed = seconds >= 60 ? `${Math.floor(seconds / 60)}m${seconds % 60}s` : `${seconds}s`;
    return `${count} · waiting on ${address} (${elapsed})`;
  }

  get done(): number {
    return this.completed;
  }
}
