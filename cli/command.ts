/**
 * The shape every `cli/commands/<name>.ts` module exports. The router imports command modules lazily, so a
 * command's dependencies (AWS SDKs, the tunnel, cdktf) load only when that command runs.
 */
import type { Reporter } from "./ui.ts";

export interface CommandContext {
  /** Reporter configured from the global flags (--json, --verbose, NO_COLOR). */
  readonly ui: Reporter;
  /** Graceful-shutdown signal: aborted on the first Ctrl-C / SIGTERM (outside a running client). */
  readonly signal: AbortSignal;
}

export interface CommandModule {
  /** `dbtunnel <name> --help` text, with examples. */
  readonly help: string;
  /** Runs the command; resolves to the process exit code. Throw CliError for one-line failures. */
  run(argv: readonly string[], ctx: CommandContext): Promise<number>;
}
