/**
 * Logic of `dbtunnel sandbox up|down|status` (the CLI in cli/commands/sandbox.ts prints the results).
 * `up` runs the sandbox in a detached daemon (sandbox/daemon.ts) so it outlives the command; state lives
 * in `$DBTUNNEL_HOME/sandbox/` (default ~/.local/state/dbtunnel/sandbox/).
 */
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import postgres from "postgres";
import { exportLine } from "../contract/shell.ts";
import {
  DAEMON_SUBCOMMAND,
  type DaemonState,
  ensureStateDir,
  logPath,
  readDaemonState,
  removeDaemonFiles,
  sandboxStateDir,
  statePath,
} from "./daemon-state.ts";
import type { SandboxEnv } from "./index.ts";
import { isListening } from "./ports.ts";
import { type SeedResult, seedSandboxStack } from "./seed.ts";
import { cleanupStaleSandboxes, defaultSandboxRoot, processStartTime } from "./state.ts";
import { pidAlive } from "./supervisor.ts";

export interface SandboxCommandOptions {
  /** Overrides DBTUNNEL_HOME (the state goes to `<home>/sandbox`). */
  readonly home?: string;
}

export interface SandboxUpOptions extends SandboxCommandOptions {
  /** @default "us-east-1" */
  readonly region?: string;
  /** How long to wait for the daemon to report ready. @default 60 s */
  readonly timeoutMs?: number;
}

export interface SandboxUpResult {
  readonly status: "started" | "already-running";
  /** Print as `export K=V` lines (formatEnvExports) or JSON. */
  readonly env: SandboxEnv;
  readonly pid: number;
  readonly dir: string;
  readonly stateDir: string;
  readonly timings?: Readonly<Record<string, number>>;
}

export interface SandboxDownResult {
  readonly status: "stopped" | "not-running";
  readonly pid?: number;
}

export interface SandboxPartHealth {
  readonly name: "daemon" | "moto" | "gateway" | "postgres" | "ldap";
  readonly healthy: boolean;
  readonly detail: string;
}

export interface SandboxStatusResult {
  readonly running: boolean;
  /** True if every part is healthy. */
  readonly healthy: boolean;
  readonly pid?: number;
  readonly dir?: string;
  readonly endpoint?: string;
  readonly parts: readonly SandboxPartHealth[];
}

/** One-line failure of a sandbox command (the CLI prints the message as is). */
export class SandboxCommandError extends Error {
  override readonly name = "SandboxCommandError";
}

/**
 * How to start the daemon: from a clone, Bun runs sandbox/daemon.ts; inside a standalone executable
 * (modules live under Bun's embedded /$bunfs, B:/~BUN on Windows) the executable runs itself with the
 * hidden daemon command.
 */
function daemonCommand(): string[] {
  const standalone = /^\/\$bunfs\/|~BUN[\\/]/.test(import.meta.path);
  return standalone
    ? [process.execPath, DAEMON_SUBCOMMAND]
    : [process.execPath, join(import.meta.dir, "daemon.ts")];
}

function withoutBunBeBun(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const { BUN_BE_BUN: _ignored, ...rest } = env;
  return rest;
}

function daemonAlive(state: DaemonState): boolean {
  return pidAlive(state.pid) && processStartTime(state.pid) === state.startTime;
}

async function waitUntil<T>(
  check: () => T | undefined,
  timeoutMs: number,
  stepMs = 50,
): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) return undefined;
    await Bun.sleep(stepMs);
  }
}

async function lastLogLine(stateDir: string): Promise<string> {
  const text = await Bun.file(logPath(stateDir))
    .text()
    .catch(() => "");
  return text.trim().split("\n").at(-1) ?? "";
}

function upResult(status: SandboxUpResult["status"], state: DaemonState, stateDir: string): SandboxUpResult {
  if (!state.env || !state.dir)
    throw new SandboxCommandError(
      `sandbox state in ${stateDir} is incomplete: run 'dbtunnel sandbox down' and try again`,
    );
  return {
    status,
    env: state.env,
    pid: state.pid,
    dir: state.dir,
    stateDir,
    ...(state.timings ? { timings: state.timings } : {}),
  };
}

/**
 * Takes `up.lock` (O_EXCL) so that two concurrent `up`s cannot start two daemons (one would be orphaned
 * when the other overwrites daemon.json). Returns a release function, or undefined if a live `up` holds it.
 */
function tryLock(stateDir: string): (() => void) | undefined {
  const lock = join(stateDir, "up.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lock, "wx", 0o600);
      writeFileSync(fd, `${process.pid} ${processStartTime(process.pid) ?? ""}`);
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const [pid, startTime] = readFileSync(lock, "utf8").split(" ");
      if (pid && pidAlive(Number(pid)) && processStartTime(Number(pid)) === startTime) return undefined;
      rmSync(lock, { force: true }); // left by an `up` that died
    }
  }
  return undefined;
}

/** Starts the sandbox daemon, or reports the running one; resolves once it is ready. */
export async function sandboxUp(opts: SandboxUpOptions = {}): Promise<SandboxUpResult> {
  const stateDir = sandboxStateDir(opts.home);
  ensureStateDir(stateDir);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const release = tryLock(stateDir);
    if (release) {
      try {
        return await upLocked(opts, stateDir, timeoutMs);
      } finally {
        release();
      }
    }
    // Another `up` is starting the daemon right now: wait for it, then report what it started.
    if (Date.now() > deadline) {
      throw new SandboxCommandError(
        `another 'dbtunnel sandbox up' is still starting the sandbox (lock ${join(stateDir, "up.lock")})`,
      );
    }
    await Bun.sleep(100);
  }
}

async function upLocked(
  opts: SandboxUpOptions,
  stateDir: string,
  timeoutMs: number,
): Promise<SandboxUpResult> {
  const existing = readDaemonState(stateDir);
  if (existing && daemonAlive(existing)) {
    if (existing.state === "ready") return upResult("already-running", existing, stateDir);
    if (existing.state === "starting")
      return awaitReady(existing.pid, stateDir, timeoutMs, "already-running");
  }
  // A dead daemon's children stopped with it (watchdogs); clear what it left on disk.
  removeDaemonFiles(stateDir);
  cleanupStaleSandboxes(defaultSandboxRoot());

  const log = openSync(logPath(stateDir), "a", 0o600);
  try {
    const proc = Bun.spawn({
      // setsid: own session, so the terminal's Ctrl-C or closing it does not reach the daemon.
      cmd: [
        "setsid",
        ...daemonCommand(),
        "--state-dir",
        stateDir,
        ...(opts.region ? ["--region", opts.region] : []),
      ],
      stdin: "ignore",
      stdout: log,
      stderr: log,
      // Never BUN_BE_BUN: it would turn a standalone executable into plain Bun, which cannot see its modules.
      env: withoutBunBeBun(process.env),
    });
    proc.unref();
    return await awaitReady(proc.pid, stateDir, timeoutMs, "started");
  } finally {
    closeSync(log);
  }
}

async function awaitReady(
  pid: number,
  stateDir: string,
  timeoutMs: number,
  status: SandboxUpResult["status"],
): Promise<SandboxUpResult> {
  const outcome = await waitUntil(() => {
    const state = readDaemonState(stateDir);
    if (state?.pid === pid && state.state !== "starting") return state;
    if (!pidAlive(pid)) return "exited" as const;
    return undefined;
  }, timeoutMs);
  if (outcome && outcome !== "exited" && outcome.state === "ready")
    return upResult(status, outcome, stateDir);
  const reason =
    outcome === undefined
      ? `it did not become ready within ${Math.round(timeoutMs / 1000)} s`
      : outcome !== "exited" && outcome.error
        ? outcome.error
        : (await lastLogLine(stateDir)) || "the daemon exited";
  if (outcome === undefined) await stopDaemon(pid, stateDir);
  const log = logPath(stateDir);
  // Keep the log for the user to read; the next `up` starts a new one.
  rmSync(statePath(stateDir), { force: true });
  throw new SandboxCommandError(
    `The sandbox could not start: ${reason}. Check that python3 has moto 5 and PostgreSQL 15 is installed ('dbtunnel doctor'); see ${log}.`,
  );
}

async function stopDaemon(pid: number, _stateDir: string): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const gone = await waitUntil(() => (pidAlive(pid) ? undefined : true), 15_000);
  if (!gone) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
    await waitUntil(() => (pidAlive(pid) ? undefined : true), 2_000);
  }
  // If it had to be killed, its children were stopped by their watchdogs; remove the directory.
  cleanupStaleSandboxes(defaultSandboxRoot());
}

/** Stops the daemon (and with it moto, PostgreSQL, the gateway) and removes its files. */
export async function sandboxDown(opts: SandboxCommandOptions = {}): Promise<SandboxDownResult> {
  const stateDir = sandboxStateDir(opts.home);
  const state = readDaemonState(stateDir);
  if (!state || !daemonAlive(state)) {
    removeDaemonFiles(stateDir);
    cleanupStaleSandboxes(defaultSandboxRoot());
    return { status: "not-running" };
  }
  await stopDaemon(state.pid, stateDir);
  removeDaemonFiles(stateDir);
  return { status: "stopped", pid: state.pid };
}

async function probe(
  name: SandboxPartHealth["name"],
  check: () => Promise<string>,
): Promise<SandboxPartHealth> {
  try {
    return { name, healthy: true, detail: await check() };
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
    return { name, healthy: false, detail: message };
  }
}

/** Health of each part of the running sandbox (real requests, not just open ports). */
export async function sandboxStatus(opts: SandboxCommandOptions = {}): Promise<SandboxStatusResult> {
  const stateDir = sandboxStateDir(opts.home);
  const state = readDaemonState(stateDir);
  if (!state) {
    return {
      running: false,
      healthy: false,
      parts: [{ name: "daemon", healthy: false, detail: "not running ('dbtunnel sandbox up' starts it)" }],
    };
  }
  const alive = daemonAlive(state);
  const daemon: SandboxPartHealth = {
    name: "daemon",
    healthy: alive && state.state === "ready",
    detail: alive
      ? `pid ${state.pid}, ${state.state} since ${state.startedAt}`
      : `pid ${state.pid} is gone ('dbtunnel sandbox down' clears it)`,
  };
  if (!alive || state.state !== "ready" || !state.env) {
    return { running: alive, healthy: false, pid: state.pid, parts: [daemon] };
  }
  const env = state.env;
  const parts = await Promise.all([
    probe("moto", async () => {
      const res = await fetch(`${state.motoUrl}/moto-api/`, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${state.motoUrl} answered HTTP ${res.status}`);
      return state.motoUrl ?? "";
    }),
    probe("gateway", async () => {
      const sts = new STSClient({
        endpoint: env.AWS_ENDPOINT_URL,
        region: env.AWS_REGION,
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          sessionToken: env.AWS_SESSION_TOKEN,
        },
        maxAttempts: 1,
      });
      const id = await sts.send(new GetCallerIdentityCommand({}), { abortSignal: AbortSignal.timeout(5000) });
      return `${env.AWS_ENDPOINT_URL} (account ${id.Account})`;
    }),
    probe("postgres", async () => {
      const pg = state.postgres;
      if (!pg) throw new Error("no PostgreSQL in the daemon state");
      const sql = postgres({
        host: "127.0.0.1",
        port: pg.port,
        user: pg.user,
        password: pg.password,
        database: "postgres",
        ssl: { ca: await Bun.file(env.DBTUNNEL_CA_BUNDLE).text(), servername: pg.tlsServerName },
        max: 1,
        connect_timeout: 5,
        onnotice: () => {},
      });
      try {
        const [row] = await sql`select current_setting('server_version') as version`;
        return `127.0.0.1:${pg.port} (PostgreSQL ${String(row?.version)}, TLS verified with the sandbox CA)`;
      } finally {
        await sql.end({ timeout: 1 });
      }
    }),
    probe("ldap", async () => {
      if (!state.ldapPort || !(await isListening(state.ldapPort)))
        throw new Error("IAM token verifier is not listening");
      return `127.0.0.1:${state.ldapPort}`;
    }),
  ]);
  const all = [daemon, ...parts];
  return {
    running: true,
    healthy: all.every((p) => p.healthy),
    pid: state.pid,
    ...(state.dir ? { dir: state.dir } : {}),
    endpoint: env.AWS_ENDPOINT_URL,
    parts: all,
  };
}

/** `export K='V'` lines for `eval "$(dbtunnel sandbox up)"`. */
export function formatEnvExports(env: SandboxEnv): string {
  return Object.entries(env)
    .map(([key, value]) => exportLine(key, String(value)))
    .join("\n");
}

/** The `unset` line that undoes formatEnvExports (for `eval "$(dbtunnel sandbox down)"`). */
export function formatEnvUnset(): string {
  return `unset ${SANDBOX_ENV_KEYS.join(" ")}`;
}

/** Every variable `sandbox up` exports (sandbox/index.ts SandboxEnv). */
const SANDBOX_ENV_KEYS: readonly (keyof SandboxEnv)[] = [
  "AWS_ENDPOINT_URL",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "DBTUNNEL_CA_BUNDLE",
  "AWS_EC2_METADATA_DISABLED",
];

/**
 * Seeds a ready stack (sandbox/seed.ts) into the running sandbox daemon; the outputs file goes to the
 * sandbox state directory, so `sandbox down` discards it with everything else.
 */
export async function sandboxSeed(
  opts: SandboxCommandOptions & { readonly stackName?: string; readonly dbUser?: string } = {},
): Promise<SeedResult> {
  const stateDir = sandboxStateDir(opts.home);
  const state = readDaemonState(stateDir);
  if (!state?.env || !state.postgres || state.state !== "ready" || !daemonAlive(state)) {
    throw new SandboxCommandError("the sandbox is not running: start it with 'dbtunnel sandbox up --seed'");
  }
  const env = state.env;
  const pg = state.postgres;
  const ca = readFileSync(env.DBTUNNEL_CA_BUNDLE, "utf8");
  try {
    return await seedSandboxStack({
      env,
      dir: join(stateDir, "stacks"),
      ...(opts.stackName ? { stackName: opts.stackName } : {}),
      ...(opts.dbUser ? { dbUser: opts.dbUser } : {}),
      admin: () =>
        postgres({
          host: "127.0.0.1",
          port: pg.port,
          user: pg.user,
          password: pg.password,
          database: "postgres",
          ssl: { ca, servername: pg.tlsServerName },
          max: 1,
          connect_timeout: 5,
          onnotice: () => {},
        }),
    });
  } catch (error) {
    throw new SandboxCommandError(
      `seeding the sandbox stack failed: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`,
    );
  }
}

/** Human-readable status, one part per line. */
export function formatSandboxStatus(status: SandboxStatusResult): string {
  return status.parts.map((p) => `${p.healthy ? "ok  " : "FAIL"} ${p.name.padEnd(8)} ${p.detail}`).join("\n");
}
