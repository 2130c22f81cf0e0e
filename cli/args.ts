/**
 * Thin layer over node:util parseArgs: strict parsing, one-line usage errors (exit 2) instead of Node's
 * multi-line TypeErrors, and the `--` split that `--exec -- CMD ...` needs.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

export type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Flags every command accepts. */
export const GLOBAL_OPTIONS = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
} as const satisfies OptionSpec;

export interface ParsedArgs<V> {
  readonly values: V;
  readonly positionals: string[];
  /** Everything after a literal `--` (never parsed). */
  readonly rest: string[];
}

/**
 * Parses `argv` against `options` (plus the global ones). Unknown flags, missing values and unexpected
 * positionals become a UsageError naming the culprit and pointing at `<command> --help`.
 */
export function parseCommandArgs<const O extends OptionSpec>(
  argv: readonly string[],
  options: O,
  command: string,
  allowPositionals = false,
) {
  const dashDash = argv.indexOf("--");
  const head = dashDash === -1 ? [...argv] : argv.slice(0, dashDash);
  const rest = dashDash === -1 ? [] : argv.slice(dashDash + 1);
  const all = { ...GLOBAL_OPTIONS, ...options };
  try {
    const parsed = parseArgs({ args: head, options: all, allowPositionals: true, strict: true });
    if (
      !allowPositionals &&
      parsed.positionals.length > 0 &&
      !(parsed.values as Record<string, unknown>).help
    ) {
      throw new UsageError(
        `unexpected argument '${parsed.positionals[0]}' for '${command}'`,
        `${command} --help`,
      );
    }
    refuseControlCharacters(parsed.values as Record<string, unknown>, parsed.positionals, command);
    return { values: parsed.values, positionals: parsed.positionals, rest };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(parseArgsMessage(error, command), `${command} --help`);
  }
}

/**
 * A newline or other control character in an option value or argument (before `--`) can only be a
 * mistake or an attack on whatever the value reaches next (a hosts file, a log line, an AWS request):
 * refused with the option named. The command after `--` is the user's own and passed as given.
 */
export function hasControlCharacter(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    // C0 controls (newline, CR, tab, NUL...), DEL and C1 controls, and the Unicode line separators.
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) return true;
  }
  return false;
}

function refuseControlCharacters(
  values: Record<string, unknown>,
  positionals: readonly string[],
  command: string,
): void {
  const bad = hasControlCharacter;
  for (const [name, value] of Object.entries(values)) {
    const list = Array.isArray(value) ? value : [value];
    if (list.some((v) => typeof v === "string" && bad(v))) {
      throw new UsageError(
        `--${name} contains a newline or control character: pass it on one line`,
        `${command} --help`,
      );
    }
  }
  if (positionals.some(bad)) {
    throw new UsageError(
      "an argument contains a newline or control character: pass it on one line",
      `${command} --help`,
    );
  }
}

/** Node's parseArgs messages are long and mention `args`; keep the useful part. */
function parseArgsMessage(error: unknown, command: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}' for '${command}'`;
  const missing = /Option '([^']+)' argument missing/.exec(message);
  if (missing) return `option '${missing[1]?.replace(/^-\w, /, "")}' needs a value`;
  const noValue = /Option '([^']+)' does not take an argument/.exec(message);
  if (noValue) return `option '${noValue[1]?.replace(/^-\w, /, "")}' does not take a value`;
  return message.split("\n")[0] ?? message;
}

/** Parses a TCP port flag; 0 is refused because "any port" is the default already. */
export function parsePort(value: string | undefined, flag: string, command: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(
      `${flag} must be a port number between 1 and 65535, got '${value}'`,
      `${command} --help`,
    );
  }
  return port;
}
