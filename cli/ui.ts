/**
 * Everything the CLI tells the user goes through a Reporter so that `--json` (one JSON object per line on
 * stdout, nothing else there), `NO_COLOR`, non-TTY output and `--verbose` behave the same in every command.
 * Human output goes to stderr so that stdout stays clean for data (connection strings, env lines, tokens).
 */
import { redact } from "./redact.ts";

export interface ReporterOptions {
  readonly json?: boolean;
  readonly verbose?: boolean;
  /** @default process.stderr.isTTY && !NO_COLOR */
  readonly color?: boolean;
  /** @default process.stderr.isTTY */
  readonly tty?: boolean;
  readonly stdout?: (text: string) => void;
  readonly stderr?: (text: string) => void;
}

export interface Step {
  /** Live progress for a long wait (rewrites the line on a TTY, throttled lines otherwise). */
  progress(detail: string): void;
  done(detail?: string): void;
  fail(detail?: string): void;
}

export type JsonEvent = { readonly type: string } & Record<string, unknown>;

const PROGRESS_LINE_INTERVAL_MS = 10_000;

export class Reporter {
  readonly json: boolean;
  readonly verbose: boolean;
  private readonly color: boolean;
  private readonly tty: boolean;
  private readonly out: (text: string) => void;
  private readonly err: (text: string) => void;
  private openLine = false;

  constructor(options: ReporterOptions = {}) {
    const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
    this.json = options.json ?? false;
    this.verbose = options.verbose ?? false;
    this.tty = options.tty ?? Boolean(process.stderr.isTTY);
    this.color = options.color ?? (this.tty && !noColor);
    this.out = options.stdout ?? ((text) => process.stdout.write(text));
    this.err = options.stderr ?? ((text) => process.stderr.write(text));
  }

  /** Emits a machine-readable event (only in --json mode). Secrets are scrubbed from every string. */
  event(event: JsonEvent): void {
    if (!this.json) return;
    this.out(`${redact(JSON.stringify(event))}\n`);
  }

  /** Primary result on stdout in human mode (connection string, env lines, a table). */
  result(text: string): void {
    if (this.json) return;
    this.endLine();
    this.out(text.endsWith("\n") ? text : `${text}\n`);
  }

  info(text: string): void {
    if (this.json) return;
    this.line(redact(text));
  }

  warn(text: string): void {
    if (this.json) {
      this.event({ type: "warning", message: text });
      return;
    }
    this.line(`${this.paint("33", "!")} ${redact(text)}`);
  }

  debug(text: string): void {
    if (!this.verbose) return;
    if (this.json) this.event({ type: "debug", message: text });
    else this.line(this.paint("2", `  ${redact(text)}`));
  }

  /** Prints the final one-line error (stack only with --verbose). */
  error(fullMessage: string, code: string, stack?: string): void {
    const message = capErrorLine(fullMessage);
    if (this.json) {
      this.event({ type: "error", code, message });
      if (this.verbose && stack) this.err(`${redact(stack)}\n`);
      return;
    }
    this.line(`${this.paint("31", "dbtunnel:")} ${redact(message)}`);
    if (this.verbose && stack) this.line(redact(stack));
  }

  step(name: string, label: string): Step {
    const started = performance.now();
    this.event({ type: "step", step: name, status: "started" });
    if (!this.json) this.line(`${this.paint("36", "›")} ${label}…`, this.tty);
    let lastProgressLine = Number.NEGATIVE_INFINITY;
    const elapsed = () => Math.round(performance.now() - started);
    return {
      progress: (detail) => {
        this.event({ type: "step", step: name, status: "progress", detail, ms: elapsed() });
        if (this.json) return;
        if (this.tty) {
          this.err(`\r\x1b[K${this.paint("36", "›")} ${label}… ${redact(detail)}`);
          this.openLine = true;
        } else if (performance.now() - lastProgressLine >= PROGRESS_LINE_INTERVAL_MS) {
          lastProgressLine = performance.now();
          this.line(`  ${label}: ${redact(detail)}`);
        }
      },
      done: (detail) => {
        this.event({ type: "step", step: name, status: "done", detail, ms: elapsed() });
        if (this.json) return;
        const suffix = detail ? ` ${this.paint("2", `(${redact(detail)})`)}` : "";
        this.finishLine(`${this.paint("32", "✓")} ${label}${suffix}`);
      },
      fail: (detail) => {
        this.event({ type: "step", step: name, status: "failed", detail, ms: elapsed() });
        if (this.json) return;
        this.finishLine(`${this.paint("31", "✗")} ${label}${detail ? ` (${redact(detail)})` : ""}`);
      },
    };
  }

  private finishLine(text: string): void {
    if (this.tty) {
      this.err(`\r\x1b[K${text}\n`);
      this.openLine = false;
    } else this.line(text);
  }

  /** Writes a line; `keepOpen` leaves the cursor on it so the step's result can overwrite it on a TTY. */
  private line(text: string, keepOpen = false): void {
    this.endLine();
    this.err(keepOpen ? text : `${text}\n`);
    this.openLine = keepOpen;
  }

  private endLine(): void {
    if (this.openLine) {
      this.err("\n");
      this.openLine = false;
    }
  }

  paint(code: string, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}

/** The longest error line the CLI prints: enough for any fix, never a dump (50 000 stacks, a huge value). */
export const MAX_ERROR_LINE = 600;

/** One line, at most MAX_ERROR_LINE characters, saying how much was left out. */
export function capErrorLine(message: string): string {
  const oneLine = message.replace(/\s*[\r\n]+\s*/g, " ");
  if (oneLine.length <= MAX_ERROR_LINE) return oneLine;
  const omitted = oneLine.length - (MAX_ERROR_LINE - 40);
  return `${oneLine.slice(0, MAX_ERROR_LINE - 40)}… (${omitted} more characters)`;
}
