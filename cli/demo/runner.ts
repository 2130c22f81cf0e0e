/**
 * Runs the end-to-end flow as named, timed steps. Both front ends (the bun test suite and `dbtunnel demo`)
 * drive the same FlowRun; they differ only in the FlowReporter that shows the steps.
 *
 * Rules the runner enforces so that no front end can get them wrong:
 * - main steps run in order; the first failure (or an interrupt) stops the main line, and every planned
 *   step that did not run is recorded as skipped with the reason, so a report never looks shorter than
 *   the plan without saying why;
 * - cleanup steps always run, even after a failure, and their failures are recorded without hiding the
 *   original cause;
 * - `finish()` throws one FlowError whose one-line message names the failed step, the cause and what was
 *   cleaned up.
 */

export type StepStatus = "passed" | "failed" | "skipped";

export interface StepResult {
  readonly name: string;
  readonly title: string;
  readonly status: StepStatus;
  readonly ms: number;
  /** Short evidence for a passed step, the reason for a skipped one. */
  readonly detail?: string;
  /** One-line cause of a failure. */
  readonly error?: string;
  /** True for steps that run in the `finally` part (destroy, leftovers, stop). */
  readonly cleanup: boolean;
}

export interface FlowReporter {
  started(name: string, title: string): void;
  /** Live progress of a long step (Terraform waits). */
  progress(name: string, detail: string): void;
  finished(result: StepResult): void;
  /** Evidence worth showing in full (audit table, TLS details, no-ingress findings). */
  note(text: string): void;
}

export interface StepContext {
  progress(detail: string): void;
  note(text: string): void;
  /** Aborted on Ctrl-C (demo) so long waits stop early; cleanup steps get a signal that never aborts. */
  readonly signal: AbortSignal;
}

export interface PlannedStep {
  readonly name: string;
  readonly title: string;
}

/** A step body returns an optional short detail ("45 resources", "sha256 match"). */
export type StepBody = (ctx: StepContext) => Promise<string | undefined>;

export class FlowError extends Error {
  override readonly name = "FlowError";
  constructor(
    message: string,
    readonly results: readonly StepResult[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Raised inside steps when the run was interrupted; reported as "interrupted", not as a defect. */
export class InterruptedError extends Error {
  override readonly name = "InterruptedError";
  constructor() {
    super("interrupted (Ctrl-C)");
  }
}

export class FlowRun {
  readonly results: StepResult[] = [];
  private failure: { step: string; error: unknown } | undefined;
  /** True while every failure so far came from check(): the main line may go on. */
  private onlyChecksFailed = true;
  private readonly never = new AbortController().signal;

  constructor(
    private readonly plan: readonly PlannedStep[],
    private readonly reporter: FlowReporter,
    readonly signal: AbortSignal = new AbortController().signal,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Runs a main step. Throws (after recording) on failure, so the caller's `finally` starts cleaning up. */
  async step(name: string, body: StepBody): Promise<void> {
    const title = this.titleOf(name);
    if (this.failure && !this.onlyChecksFailed)
      throw new Error(`step ${name} called after ${this.failure.step} failed`);
    if (this.signal.aborted) {
      this.failure = { step: name, error: new InterruptedError() };
      this.record({ name, title, status: "failed", ms: 0, error: "interrupted (Ctrl-C)", cleanup: false });
      throw new InterruptedError();
    }
    const ok = await this.execute(name, title, body, false, this.signal);
    if (!ok) {
      this.onlyChecksFailed = false;
      // Re-read through a method: TypeScript keeps the `if (this.failure)` narrowing across the await.
      throw this.failureError();
    }
  }

  /**
   * Runs an independent assertion (a clean re-plan, no ingress): later steps do not depend on it, so a
   * failure is recorded and fails the run at finish(), but the main line goes on and proves the rest.
   */
  async check(name: string, body: StepBody): Promise<void> {
    if (this.failure && !this.onlyChecksFailed)
      throw new Error(`check ${name} called after ${this.failure.step} failed`);
    if (this.signal.aborted) return this.step(name, body);
    await this.execute(name, this.titleOf(name), body, false, this.signal);
  }

  /** Runs a cleanup step; never throws. Returns whether it passed. */
  async cleanup(name: string, body: StepBody): Promise<boolean> {
    return this.execute(name, this.titleOf(name), body, true, this.never);
  }

  /** Records a cleanup step that had nothing to do (e.g. destroy when synth never produced a stack). */
  skip(name: string, reason: string): void {
    this.record({ name, title: this.titleOf(name), status: "skipped", ms: 0, detail: reason, cleanup: true });
  }

  /**
   * Marks planned steps that never ran as skipped and throws a FlowError if anything failed (the main
   * line or a cleanup step). Call once, after the cleanup steps.
   */
  finish(): StepResult[] {
    const seen = new Set(this.results.map((r) => r.name));
    const reason = this.failure ? `not run: ${this.failure.step} failed` : "not run";
    for (const planned of this.plan) {
      if (!seen.has(planned.name)) {
        this.results.push({ ...planned, status: "skipped", ms: 0, detail: reason, cleanup: false });
      }
    }
    // Report in plan order (skipped steps where they would have run), unplanned ones last.
    const order = (name: string) => {
      const i = this.plan.findIndex((p) => p.name === name);
      return i === -1 ? this.plan.length : i;
    };
    this.results.sort((a, b) => order(a.name) - order(b.name));
    const failedCleanups = this.results.filter((r) => r.cleanup && r.status === "failed");
    const cleanedUp = this.results
      .filter((r) => r.cleanup)
      .map((r) => `${r.name} ${r.status === "passed" ? "ok" : r.status}`)
      .join(", ");
    if (this.failure) {
      const step = this.results.find((r) => r.name === this.failure?.step);
      const others = this.results.filter(
        (r) => !r.cleanup && r.status === "failed" && r.name !== this.failure?.step,
      );
      const also =
        others.length > 0 ? `; also failed: ${others.map((r) => `${r.name} (${r.error})`).join(", ")}` : "";
      throw new FlowError(
        `step '${this.failure.step}' failed: ${step?.error ?? describe(this.failure.error)}${also}; cleanup: ${cleanedUp || "nothing to clean up"}`,
        this.results,
        { cause: this.failure.error },
      );
    }
    if (failedCleanups.length > 0) {
      throw new FlowError(
        `cleanup failed: ${failedCleanups.map((r) => `${r.name}: ${r.error}`).join("; ")}`,
        this.results,
      );
    }
    return this.results;
  }

  private failureError(): unknown {
    return this.failure?.error;
  }

  private async execute(
    name: string,
    title: string,
    body: StepBody,
    cleanup: boolean,
    signal: AbortSignal,
  ): Promise<boolean> {
    this.reporter.started(name, title);
    const started = performance.now();
    const ctx: StepContext = {
      progress: (detail) => this.reporter.progress(name, detail),
      note: (text) => this.reporter.note(text),
      signal,
    };
    try {
      const detail = (await body(ctx)) ?? undefined;
      this.record({ name, title, status: "passed", ms: performance.now() - started, detail, cleanup });
      return true;
    } catch (error) {
      if (!cleanup && !this.failure) this.failure = { step: name, error };
      this.record({
        name,
        title,
        status: "failed",
        ms: performance.now() - started,
        error: describe(error),
        cleanup,
      });
      return false;
    }
  }

  private record(result: StepResult): void {
    this.results.push(result);
    this.reporter.finished(result);
  }

  private titleOf(name: string): string {
    return this.plan.find((p) => p.name === name)?.title ?? name;
  }
}

/** One line for a thrown value: the message's first non-empty line, never a stack. */
export function describe(error: unknown): string {
  const text = error instanceof Error ? error.message || error.name : String(error);
  return (text.split("\n").find((l) => l.trim() !== "") ?? "unknown error").trim();
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
