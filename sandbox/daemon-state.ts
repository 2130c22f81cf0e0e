import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { SandboxEnv } from "./index.ts";

export { DAEMON_SUBCOMMAND } from "../contract/sandbox-daemon.ts";

/** What the background sandbox daemon publishes in `$DBTUNNEL_HOME/sandbox/daemon.json` (mode 0600). */
export interface DaemonState {
  readonly pid: number;
  /** /proc starttime of the daemon: tells it from a process that reused its pid. */
  readonly startTime: string;
  readonly state: "starting" | "ready" | "failed";
  /** One-line reason when state is "failed". */
  readonly error?: string;
  readonly startedAt: string;
  readonly env?: SandboxEnv;
  readonly dir?: string;
  readonly motoUrl?: string;
  readonly gatewayUrl?: string;
  readonly ldapPort?: number;
  readonly postgres?: {
    readonly port: number;
    readonly user: string;
    readonly password: string;
    readonly tlsServerName: string;
  };
  readonly timings?: Readonly<Record<string, number>>;
}

/** `$DBTUNNEL_HOME/sandbox`, DBTUNNEL_HOME defaulting to ~/.local/state/dbtunnel. */
export function sandboxStateDir(home = process.env.DBTUNNEL_HOME): string {
  return join(home ?? join(homedir(), ".local", "state", "dbtunnel"), "sandbox");
}

export function ensureStateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // It will hold credentials: private whatever the umask said.
  chmodSync(dir, 0o700);
}

export const statePath = (dir: string) => join(dir, "daemon.json");
export const logPath = (dir: string) => join(dir, "daemon.log");

export function readDaemonState(dir: string): DaemonState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(dir), "utf8")) as DaemonState;
  } catch {
    return undefined;
  }
}

/** Atomic write (rename), so a reader never sees half a file. */
export function writeDaemonState(dir: string, state: DaemonState): void {
  const tmp = `${statePath(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(tmp, statePath(dir));
}

export function removeDaemonFiles(dir: string): void {
  rmSync(statePath(dir), { force: true });
  rmSync(logPath(dir), { force: true });
  // Outputs files of `sandbox up --seed` stacks: they name resources of the sandbox that is gone.
  rmSync(join(dir, "stacks"), { recursive: true, force: true });
}
