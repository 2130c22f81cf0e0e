/**
 * `dbtunnel demo` (`npm run demo`): the whole story on a fresh machine, against the local sandbox —
 * deploy the stack, show that nothing can come in, tunnel through Session Manager, log in with an IAM token
 * under sslmode=verify-full, print what the server saw, destroy, stop. The steps are cli/demo/flow.ts
 * (the e2e suite deploys and destroys with the same steps); this file only presents them: a step line each, a spinner with elapsed time while
 * Terraform waits, JSON lines with --json. Ctrl-C still destroys and stops everything.
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseCommandArgs } from "../args.ts";
import type { CommandContext } from "../command.ts";
import type { FlowOutcome } from "../demo/flow.ts";
import { formatMs } from "../demo/runner.ts";
import { DEMO_VARIANT_NAMES, DEMO_VARIANTS, type DemoVariant, isDemoVariant } from "../demo/variants.ts";
import { CliError, UsageError } from "../errors.ts";
import { selfCommand } from "../self-command.ts";
import type { Reporter, Step } from "../ui.ts";

const VARIANT_LINES = DEMO_VARIANT_NAMES.map(
  (name) => `                    ${name.padEnd(10)} ${DEMO_VARIANTS[name].summary}`,
).join("\n");

export const help = `Usage: dbtunnel demo [--variant <name>] [--keep] [--json] [--verbose]

Runs the full path against the local sandbox account (no AWS account needed), in about 5 minutes:
  start the sandbox → synthesize + security audit → cdktf deploy (Terraform, for real)
  → show there is no ingress (live API evidence) → open a Session Manager port-forwarding session
  (EC2 instance or ECS task) → create an IAM database user → connect with an RDS IAM token over TLS
  with hostname verification (PostgreSQL sslmode=verify-full; MySQL in a private hosts namespace)
  → print the server's TLS and user details → cdktf destroy → stop the sandbox.
Most of the time is Terraform waiting on the database (the AWS provider's own waits).
Ctrl-C stops early and still destroys the stack and stops the sandbox (press it twice to quit at once;
the sandbox and everything in it is then simply discarded).

Options:
      --variant <name>  the stack to deploy (default: default):
${VARIANT_LINES}
      --keep      leave the stack and the sandbox running and print the 'dbtunnel connect' command to
                  try by hand ('dbtunnel sandbox down' discards everything later)
      --json      one JSON object per line (step events and a final summary), no spinner
  -v, --verbose   print the Terraform log location and more detail

Examples:
  npm run demo
  npm run demo -- --variant ecs-mysql
  dbtunnel demo --keep`;

/** `--variant`: a known variant name, or a usage error listing them. */
export function demoVariant(value: unknown): DemoVariant {
  if (value === undefined) return "default";
  if (typeof value === "string" && isDemoVariant(value)) return value;
  throw new UsageError(
    `unknown demo variant '${String(value)}': use one of ${DEMO_VARIANT_NAMES.join(", ")}`,
  );
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    { keep: { type: "boolean" }, variant: { type: "string" } },
    "dbtunnel demo",
  );
  const variant = demoVariant(values.variant);
  const ui = ctx.ui;
  // Imported on use (literal paths): `dbtunnel demo --help` must not load Terraform, policy and sandbox code.
  const [flow, sandbox, { PROJECT_ROOT }] = await Promise.all([
    import("../demo/flow.ts"),
    import("../../sandbox/commands.ts"),
    import("../demo/terraform.ts"),
  ]);
  const reporter = new DemoReporter(ui);
  const keep = values.keep === true;

  const onAbort = () =>
    ui.warn(
      "Interrupted: destroying the stack and stopping the sandbox first (about 1-2 minutes). Press Ctrl-C again to quit at once; the sandbox and everything in it is then discarded.",
    );
  ctx.signal.addEventListener("abort", onAbort, { once: true });

  let startedDaemon = false;
  const started = performance.now();
  let outcome: FlowOutcome;
  try {
    outcome = await flow.runFlow({
      target: "sandbox",
      reporter,
      signal: ctx.signal,
      keep,
      configPath: join(PROJECT_ROOT, DEMO_VARIANTS[variant].configFile),
      ...(variant === "default" ? {} : { namePrefix: `demo-${variant}` }),
      // --keep needs a sandbox that outlives this process: the daemon of 'dbtunnel sandbox up'.
      startSandbox: keep
        ? async (region) => {
            const up = await sandbox.sandboxUp({ region });
            startedDaemon = up.status === "started";
            return {
              env: { ...up.env },
              caBundlePath: up.env.DBTUNNEL_CA_BUNDLE,
              region: up.env.AWS_REGION,
              // A failed --keep run cleans up, but never stops a daemon the user had running already.
              stop: async () => {
                if (startedDaemon) await sandbox.sandboxDown();
              },
            };
          }
        : undefined,
    });
  } finally {
    reporter.stopSpinner();
    ctx.signal.removeEventListener("abort", onAbort);
  }
  const elapsed = formatMs(performance.now() - started);

  ui.event({
    type: "summary",
    ok: outcome.error === undefined,
    stack: outcome.stackName,
    region: outcome.region,
    variant,
    elapsedMs: Math.round(performance.now() - started),
    steps: outcome.results.map((r) => ({
      name: r.name,
      status: r.status,
      ms: Math.round(r.ms),
      detail: r.detail ?? r.error,
    })),
    tls: outcome.tls,
    kept: keep && outcome.error === undefined,
  });

  if (outcome.error) {
    // A run that got as far as Terraform leaves its directory behind: say where the log is.
    const log = join(outcome.workDir, "terraform.log");
    if (existsSync(log)) ui.info(`Terraform log: ${log}`);
    if (ctx.signal.aborted) {
      throw new CliError(`Demo interrupted after ${elapsed}.`, { code: "Interrupted", exitCode: 130 });
    }
    throw new CliError(`Demo failed after ${elapsed}: ${outcome.error}`, { code: "DemoFailed" });
  }

  const tls = outcome.tls;
  if (tls) {
    ui.result(
      [
        "",
        `Connected to ${tls.endpoint} as ${tls.user} through Session Manager session ${tls.sessionId}`,
        `with an RDS IAM token over ${tls.tlsVersion} (${tls.cipher}), certificate verified ${variant === "ecs-mysql" ? "with its name (the client's hostname verification)" : "(verify-full)"}.`,
        "No inbound port was opened anywhere; see the no-ingress evidence above.",
      ].join("\n"),
    );
  }
  if (keep) {
    const self = selfCommand();
    ui.result(
      [
        "",
        `Kept running: stack ${outcome.stackName} in the sandbox. Try it by hand:`,
        `  eval "$(${self} sandbox up)"`,
        `  ${self} connect --outputs ${outcome.outputsFile ?? `${outcome.workDir}/outputs.json`}`,
        "When done (discards the stack with the sandbox):",
        `  eval "$(${self} sandbox down)"`,
        `  rm -rf ${outcome.workDir} ${PROJECT_ROOT}/terraform.${outcome.stackName}.tfstate*`,
      ].join("\n"),
    );
  } else {
    ui.result(`Demo finished in ${elapsed}: deployed, connected, destroyed, nothing left behind.`);
  }
  return 0;
}

/**
 * FlowReporter on top of the CLI's Reporter: one step line each; on a terminal a spinner with the elapsed
 * time keeps moving while Terraform is silent; without a terminal the Reporter prints a progress line at
 * most every 10 s; with --json only real progress events, at most every 5 s.
 */
export class DemoReporter {
  private readonly steps = new Map<
    string,
    { step: Step; title: string; started: number; detail: string; lastJson: number }
  >();
  private timer: ReturnType<typeof setInterval> | undefined;
  private frame = 0;

  constructor(private readonly ui: Reporter) {}

  started(name: string, title: string): void {
    this.steps.set(name, {
      step: this.ui.step(name, title),
      title,
      started: performance.now(),
      detail: "",
      // The first progress event goes out at once; later ones at most every 5 s.
      lastJson: Number.NEGATIVE_INFINITY,
    });
    if (!this.ui.json) this.timer ??= setInterval(() => this.tick(), 250);
  }

  progress(name: string, detail: string): void {
    const entry = this.steps.get(name);
    if (!entry) return;
    entry.detail = detail;
    if (this.ui.json) {
      if (performance.now() - entry.lastJson < 5000) return;
      entry.lastJson = performance.now();
      entry.step.progress(detail);
    } else this.render(entry);
  }

  finished(result: {
    name: string;
    title: string;
    status: string;
    detail?: string;
    error?: string;
    ms: number;
  }): void {
    const entry = this.steps.get(result.name);
    this.steps.delete(result.name);
    if (this.steps.size === 0) this.stopSpinner();
    const seconds = `${(result.ms / 1000).toFixed(1)} s`;
    if (!entry) {
      // Skipped without starting (e.g. destroy when nothing was deployed).
      if (result.status === "skipped")
        this.ui.debug(`${result.title}: skipped (${result.detail ?? "not run"})`);
      return;
    }
    if (result.status === "passed") entry.step.done(result.detail ? `${result.detail}; ${seconds}` : seconds);
    else entry.step.fail(`${result.error ?? result.detail ?? result.status}; ${seconds}`);
  }

  note(text: string): void {
    // The sandbox's own log lines (sessions terminated, tokens refused) are for the e2e report and
    // --verbose; the demo's reader gets the evidence notes only.
    const print = text.startsWith("sandbox: ")
      ? (line: string) => this.ui.debug(line)
      : (line: string) => this.ui.info(line);
    for (const line of text.split("\n")) print(`    ${line}`);
  }

  stopSpinner(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    this.frame = (this.frame + 1) % SPINNER.length;
    for (const entry of this.steps.values()) this.render(entry);
  }

  private render(entry: { step: Step; title: string; started: number; detail: string }): void {
    const seconds = Math.floor((performance.now() - entry.started) / 1000);
    const clock = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
    // A spinner only means something on a terminal; logs get the elapsed clock and the detail.
    const spinner = process.stderr.isTTY ? `${SPINNER[this.frame]} ` : "";
    let text = `${spinner}${clock}${entry.detail ? `  ${entry.detail}` : ""}`;
    // A line that wraps cannot be rewritten in place: keep it within the terminal.
    const room = (process.stderr.columns ?? 0) - entry.title.length - 6;
    if (process.stderr.isTTY && room > 10 && text.length > room) text = `${text.slice(0, room - 1)}…`;
    entry.step.progress(text);
  }
}
