/**
 * The suite's reporter: plain lines (CI logs are not terminals), each step with its name and duration,
 * Terraform progress at most every PROGRESS_INTERVAL_MS so a 3-minute apply shows it is alive without
 * flooding the log. Every line is also kept for the JUnit <system-out>.
 */

import { type FlowReporter, formatMs, type StepResult } from "../cli/demo/runner.ts";
import { redact } from "../cli/redact.ts";

const PROGRESS_INTERVAL_MS = 15_000;

export class ConsoleReporter implements FlowReporter {
  readonly lines: string[] = [];
  private lastProgress = new Map<string, number>();

  constructor(
    private readonly prefix: string,
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  started(name: string, title: string): void {
    this.lastProgress.set(name, performance.now());
    this.emit(`› ${name}: ${title}`);
  }

  progress(name: string, detail: string): void {
    const last = this.lastProgress.get(name) ?? 0;
    if (performance.now() - last < PROGRESS_INTERVAL_MS) return;
    this.lastProgress.set(name, performance.now());
    this.emit(`  ${name}: ${detail}`);
  }

  finished(result: StepResult): void {
    const mark = result.status === "passed" ? "✓" : result.status === "failed" ? "✗" : "-";
    const tail =
      result.status === "failed" ? ` FAILED: ${result.error}` : result.detail ? ` — ${result.detail}` : "";
    this.emit(
      `${mark} ${result.name} (${formatMs(result.ms)})${result.status === "skipped" ? " skipped" : ""}${tail}`,
    );
  }

  note(text: string): void {
    for (const line of text.split("\n")) this.emit(`  ${line}`);
  }

  /** A one-off line (summary, leftovers). */
  info(text: string): void {
    this.emit(text);
  }

  private emit(text: string): void {
    const line = `[${this.prefix}] ${redact(text)}`;
    this.lines.push(line);
    this.write(line);
  }
}
