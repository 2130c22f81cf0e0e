/**
 * The suite's own steps between deploy and destroy, for either engine. The connection is the real
 * `dbtunnel` CLI, run as a subprocess the way engineers run it: `connect --listen` holds a session that
 * the suite's own client (its own psql/postgres.js or mariadb, its own tokens) uses, and
 * `connect --exec -- <client>` logs in with the CLI's token. The assertions are the suite's: what the
 * server saw, byte counts, refusals, the gateway's sessions. The engines' parts: postgres-cli-steps.ts,
 * mysql-cli-steps.ts; which steps a variant runs: suite-steps.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { masterLogin } from "../cli/demo/database.ts";
import type { DeployedStack, FlowTarget } from "../cli/demo/flow.ts";
import type { FlowRun, PlannedStep } from "../cli/demo/runner.ts";
import { failureSummary, PROJECT_ROOT, runLogged } from "../cli/demo/terraform.ts";
import { waitFor } from "../test-support/wait.ts";
import type { DbContext } from "./db-steps.ts";

/** The CLI's --json lines the suite reads. */
export type CliEvent = { readonly type: string } & Record<string, unknown>;

/** `bun cli/main.ts`: the same entry point as bin/dbtunnel. */
export const CLI = [process.execPath, join(PROJECT_ROOT, "cli/main.ts")];

export async function planIsClean(stack: DeployedStack, signal: AbortSignal): Promise<string> {
  const r = await runLogged({
    cmd: ["terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false"],
    cwd: stack.stackDir,
    env: { ...stack.childEnv },
    logPath: stack.logPath,
    signal,
  });
  if (r.code === 0) return "no changes";
  if (r.code === 2) {
    const changes = r.tail.filter((l) => /^\s*# \S+ (will|must) be/.test(l)).map((l) => l.trim().slice(2));
    throw new Error(
      `second plan is not clean (perpetual diff; fix it in the infra code, see design.md moto deviations): ${changes.join("; ") || "see log"} (log: ${stack.logPath})`,
    );
  }
  throw new Error(`terraform plan exited ${r.code}: ${failureSummary(r.tail)}`);
}

/** Environment of a `dbtunnel` child: the account's AWS_* and the CA bundle, nothing else of the suite's. */
export function cliEnv(stack: DeployedStack, target: FlowTarget): Record<string, string> {
  const base: Record<string, string> = {};
  const inherit = target === "aws" ? Object.keys(process.env) : ["PATH", "HOME", "TMPDIR", "LANG"];
  for (const key of inherit) {
    const value = process.env[key];
    if (value !== undefined) base[key] = value;
  }
  return {
    ...base,
    ...stack.awsEnv,
    ...(stack.caBundlePath ? { DBTUNNEL_CA_BUNDLE: stack.caBundlePath } : {}),
    NO_COLOR: "1",
  };
}

/** A running `dbtunnel connect --listen --json`, its events as they arrive. */
export interface ListeningCli {
  readonly events: CliEvent[];
  stderr(): string;
  readonly exited: Promise<number>;
  readonly process: ReturnType<typeof Bun.spawn>;
}

export function startListening(stack: DeployedStack, env: Record<string, string>): ListeningCli {
  const child = Bun.spawn([...CLI, "connect", "--outputs", stack.outputsFile, "--listen", "--json"], {
    env,
    cwd: PROJECT_ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const events: CliEvent[] = [];
  let err = "";
  const readLines = async (stream: ReadableStream<Uint8Array>, onLine: (line: string) => void) => {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
        onLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    }
    if (buffered) onLine(buffered);
  };
  const reading = Promise.all([
    readLines(child.stdout, (line) => {
      if (line.trim()) events.push(JSON.parse(line) as CliEvent);
    }),
    readLines(child.stderr, (line) => {
      err += `${line}\n`;
    }),
  ]);
  return {
    events,
    stderr: () => err,
    exited: reading.then(() => child.exited),
    process: child,
  };
}

/** Polls `get` until it yields a value (a CLI event, a condition) or the deadline passes. */
export async function eventually<T>(get: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  let found: T | undefined;
  const held = await waitFor(
    () => {
      found = get();
      return found !== undefined;
    },
    timeoutMs,
    50,
  );
  if (held) return found as T;
  throw new Error(`no ${what} within ${Math.round(timeoutMs / 1000)} s`);
}

/** The promise's value, or an error naming what did not happen in time. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not happen within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

export function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}

/** What a `db` context is built from once `--listen` is ready. */
export interface ListenReady {
  readonly stack: DeployedStack;
  readonly ready: CliEvent;
  readonly port: number;
}

/** The `cli-exec` step's inputs: the CLI's environment, the IAM user, a scratch directory. */
export interface ExecContext {
  readonly stack: DeployedStack;
  readonly env: Record<string, string>;
  readonly iamUser: string;
  readonly scratch: string;
}

/**
 * One engine's part of the CLI steps (postgres-cli-steps.ts, mysql-cli-steps.ts): its client, its SQL,
 * its refusals. The session handling, the counting and the clean-up are `connectThroughCli`'s.
 */
export interface EngineCliSteps {
  /** Names the engine in step titles and messages. */
  readonly name: string;
  /** Titles of cli-listen, db-setup and cli-exec. */
  readonly titles: { readonly listen: string; readonly setup: string; readonly exec: string };
  /** Checks of the engine's own after cli-exec (e.g. PostgreSQL's hosts-file login). */
  readonly extraChecks: readonly PlannedStep[];
  /** Database name when the outputs name none. */
  readonly defaultDbName: string;
  /** Extra environment of `connect --listen` (MySQL: a scratch hosts file). */
  listenEnv(scratch: string): Record<string, string>;
  /** Checks the `ready` event beyond its port; returns what it showed (e.g. the connection string). */
  checkReady(ready: ListenReady): string;
  setup(db: DbContext, master: { user: string; password: string }): Promise<string>;
  /** Runs `dbtunnel connect --exec -- <client>` with DDL + DML and checks what the client saw. */
  exec(ctx: ExecContext): Promise<string>;
  runExtraChecks(run: FlowRun, db: DbContext, target: FlowTarget): Promise<void>;
  bulk(db: DbContext): Promise<string>;
  concurrent(db: DbContext, n: number): Promise<{ detail: string }>;
  refusals(db: DbContext): Promise<string[]>;
}

/** The connection steps in the order `connectThroughCli` runs them. */
export function connectSteps(engine: EngineCliSteps): PlannedStep[] {
  return [
    { name: "cli-listen", title: engine.titles.listen },
    { name: "db-setup", title: engine.titles.setup },
    { name: "cli-exec", title: engine.titles.exec },
    ...engine.extraChecks,
    { name: "bulk-16mib", title: "16 MiB round trip checked by sha256" },
    { name: "concurrent-16", title: "16 concurrent connections over one session" },
    { name: "refusals", title: "other user's token, expired token, wrong CA, wrong name are refused" },
    { name: "cli-close", title: "Ctrl-C closes the --listen session; the gateway has none left" },
  ];
}

/** Runs the `dbtunnel` CLI the way engineers do and checks each property with the engine's own client. */
export async function connectThroughCli(
  run: FlowRun,
  stack: DeployedStack,
  target: FlowTarget,
  engine: EngineCliSteps,
): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), "dbtunnel-e2e-cli-"));
  const env = cliEnv(stack, target);
  const iamUser = stack.target.db.iamUsers[0];
  if (!iamUser) throw new Error("output db_iam_users names no IAM database user");
  const caBundlePath = stack.caBundlePath;
  if (!caBundlePath) throw new Error("no CA bundle (DBTUNNEL_CA_BUNDLE) for TLS verification");
  let listening: ListeningCli | undefined;
  let db: DbContext | undefined;
  let sessionId = "";
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not available (an earlier step did not provide it)`);
    return value;
  };
  try {
    await run.step("cli-listen", async () => {
      const cli = startListening(stack, { ...env, ...engine.listenEnv(scratch) });
      listening = cli;
      const exitedEarly = cli.exited.then((code) => {
        throw new Error(`dbtunnel connect --listen exited ${code}: ${lastLine(cli.stderr())}`);
      });
      const ready = await Promise.race([
        eventually(
          () => cli.events.find((e) => e.type === "ready"),
          target === "aws" ? 600_000 : 90_000,
          "'ready' event from dbtunnel connect --listen",
        ),
        exitedEarly,
      ]);
      exitedEarly.catch(() => {});
      sessionId = String(cli.events.find((e) => e.type === "session")?.sessionId ?? "");
      const port = Number(ready.port);
      if (!Number.isInteger(port) || port <= 0)
        throw new Error(`the ready event has no port: ${JSON.stringify(ready)}`);
      if (/X-Amz-Signature/i.test(JSON.stringify(cli.events)))
        throw new Error("dbtunnel connect --listen printed a token");
      const shown = engine.checkReady({ stack, ready, port });
      db = {
        endpoint: stack.target.db.endpoint,
        port: stack.target.db.port,
        localPort: port,
        dbname: stack.target.db.name ?? engine.defaultDbName,
        region: stack.target.region,
        caBundlePath,
        iamUser,
        credentials: stack.credentials,
      };
      return `session ${sessionId} on 127.0.0.1:${port} → ${stack.target.db.endpoint}:${stack.target.db.port}${shown ? `; ${shown}` : ""}`;
    });

    await run.step("db-setup", async () => {
      const master = await masterLogin(stack.clients.secrets, stack.target, stack.outputs);
      return engine.setup(need(db, "the --listen session"), master);
    });

    await run.step("cli-exec", async () => engine.exec({ stack, env, iamUser, scratch }));

    await engine.runExtraChecks(run, need(db, "the --listen session"), target);
    await run.check("bulk-16mib", async () => engine.bulk(need(db, "the --listen session")));
    await run.check("concurrent-16", async () => {
      const cli = need(listening, "the --listen session");
      const opened = () =>
        cli.events.filter((e) => e.type === "tunnel" && e.event === "connection-opened").length;
      const before = opened();
      const { detail } = await engine.concurrent(need(db, "the --listen session"), 16);
      // The CLI reports each connection as it opens; the last may still be on its way.
      await eventually(
        () => (opened() - before >= 16 ? true : undefined),
        5000,
        `16 connection-opened events from dbtunnel connect --listen (saw ${opened() - before})`,
      );
      const sessions = stack.sandbox?.gateway?.activeSessions();
      if (sessions && (sessions.length !== 1 || sessions[0] !== sessionId)) {
        throw new Error(`expected exactly session ${sessionId} at the gateway, saw ${sessions.join(", ")}`);
      }
      const reconnects = cli.events.filter((e) => e.type === "tunnel" && e.event === "reconnecting").length;
      return `${detail}, all on session ${sessionId}${reconnects ? ` (${reconnects} reconnects)` : ""}`;
    });
    await run.check("refusals", async (ctx) => {
      const evidence = await engine.refusals(need(db, "the --listen session"));
      ctx.note(evidence.join("\n"));
      return `${evidence.length - 1} refusals for the right reason`;
    });

    await run.step("cli-close", async () => {
      const cli = need(listening, "the --listen session");
      listening = undefined;
      cli.process.kill("SIGINT");
      const code = await within(cli.exited, 10_000, "dbtunnel connect --listen exiting on Ctrl-C");
      if (code !== 0)
        throw new Error(`dbtunnel connect --listen exited ${code} on Ctrl-C: ${lastLine(cli.stderr())}`);
      const exit = cli.events.at(-1);
      if (exit?.type !== "exit" || exit.code !== 0)
        throw new Error(`the last event is ${JSON.stringify(exit)}, expected {"type":"exit","code":0}`);
      const gateway = stack.sandbox?.gateway;
      if (gateway) {
        await eventually(
          () => (gateway.activeSessions().includes(sessionId) ? undefined : true),
          5000,
          `end of session ${sessionId} at the gateway`,
        );
      }
      const closed = cli.events.filter((e) => e.type === "tunnel" && e.event === "connection-closed");
      const bytes = closed.reduce((sum, e) => sum + Number(e.bytesIn ?? 0) + Number(e.bytesOut ?? 0), 0);
      return `exit 0; ${closed.length} connections, ${(bytes / 1048576).toFixed(1)} MiB carried; no session left`;
    });
  } finally {
    // A failed step must not leave the CLI (and its session) running into destroy.
    const cli = listening;
    if (cli) {
      cli.process.kill("SIGINT");
      await within(cli.exited, 5000, "dbtunnel connect --listen exiting").catch(() =>
        cli.process.kill("SIGKILL"),
      );
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `dbtunnel connect --exec -- <client…>` with the CLI's environment; its output, or one line why not. */
export async function execThroughCli(
  ctx: ExecContext,
  extraArgs: readonly string[],
  client: readonly string[],
) {
  const child = Bun.spawn(
    [
      ...CLI,
      "connect",
      "--outputs",
      ctx.stack.outputsFile,
      "--user",
      ctx.iamUser,
      ...extraArgs,
      "--exec",
      "--",
      ...client,
    ],
    { env: ctx.env, cwd: PROJECT_ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  if (code !== 0) throw new Error(`dbtunnel connect --exec exited ${code}: ${lastLine(err)}`);
  if (/X-Amz-Signature/.test(out + err)) throw new Error("dbtunnel connect --exec printed a token");
  const rows = out
    .trim()
    .split("\n")
    .map((l) => l.split("\t"));
  return { rows, stderr: err };
}
