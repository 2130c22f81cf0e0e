/**
 * `dbtunnel` entry point: routes to a lazily imported command module, prints every failure as one line
 * (stack trace only with --verbose), and guarantees cleanup on every exit path.
 */
import { DAEMON_SUBCOMMAND } from "../contract/sandbox-daemon.ts";
import type { CommandModule } from "./command.ts";
import { CliError, describeError, EXIT_USAGE, UsageError } from "./errors.ts";
import { installLifecycle, runSyncCleanups, shutdownSignal } from "./lifecycle.ts";
import { Reporter } from "./ui.ts";
import { buildInfo, standaloneBuild, VERSION, versionText } from "./version.ts";

/**
 * Command name → its module, imported on use with a literal path (so `--help` loads no AWS SDK and the
 * compiler checks every command), and a one-line summary.
 */
export const COMMANDS: Record<
  string,
  { readonly load: () => Promise<CommandModule>; readonly summary: string }
> = {
  connect: {
    load: () => import("./commands/connect.ts"),
    summary: "open a tunnel to the stack's database and run psql (or a command)",
  },
  token: {
    load: () => import("./commands/token.ts"),
    summary: "print a fresh RDS IAM auth token (for GUI clients)",
  },
  doctor: {
    load: () => import("./commands/doctor.ts"),
    summary: "check credentials, stack, jump host, CA bundle and client",
  },
  audit: {
    load: () => import("./commands/audit.ts"),
    summary: "check a synthesized cdk.tf.json against the security rules",
  },
  sandbox: {
    load: () => import("./commands/sandbox.ts"),
    summary: "start/stop the local sandbox account (up | down | status)",
  },
  proxy: {
    load: () => import("./commands/proxy.ts"),
    summary: "local endpoint for GUIs and drivers: no token to paste, verified TLS upstream",
  },
  up: {
    load: () => import("./commands/up.ts"),
    summary: "start the proxies of a profile (several databases at once)",
  },
  demo: {
    load: () => import("./commands/demo.ts"),
    summary: "deploy to the sandbox, connect, and tear down",
  },
};

export const MAIN_HELP = `dbtunnel ${VERSION} - reach a private RDS database through Session Manager, with zero inbound ports.

Usage: dbtunnel <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)} ${c.summary}`)
  .join("\n")}

Global options:
  -h, --help      show help (also: dbtunnel <command> --help)
      --json      machine-readable events, one JSON object per line on stdout
  -v, --verbose   more detail, and stack traces on errors
      --version   print the version, git commit and Session Manager client version
Environment: NO_COLOR disables colours; AWS_PROFILE / AWS_REGION / AWS_ENDPOINT_URL are honoured.

Examples:
  dbtunnel connect --outputs outputs.json            # psql into the stack's database
  dbtunnel connect --stack dev --user app_ro         # find the stack by tags
  dbtunnel doctor --outputs outputs.json             # what is missing?
  eval "$(dbtunnel sandbox up)"                      # local sandbox account`;

/** Global flags are needed before the command parses its own, to report its errors in the right format. */
function globalFlags(argv: readonly string[]) {
  const end = argv.indexOf("--");
  const head = end === -1 ? argv : argv.slice(0, end);
  return { json: head.includes("--json"), verbose: head.includes("--verbose") || head.includes("-v") };
}

export async function main(argv: readonly string[]): Promise<number> {
  const flags = globalFlags(argv);
  const ui = new Reporter(flags);
  try {
    return await route(argv, ui);
  } catch (error) {
    const failure = describeError(error);
    ui.error(failure.message, failure.code, flags.verbose ? stackOf(error) : undefined);
    return failure.exitCode;
  }
}

async function route(argv: readonly string[], ui: Reporter): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic) return route([topic, "--help"], ui);
    process.stdout.write(`${MAIN_HELP}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === "--version") {
    if (ui.json) ui.event({ type: "version", ...buildInfo() });
    else process.stdout.write(`${versionText()}\n`);
    return 0;
  }
  if (name === PLUGIN_NAME) return runPluginMode(rest);
  if (name.startsWith("-")) throw new UsageError(`unknown option '${name}' (options go after the command)`);
  const entry = COMMANDS[name];
  if (!entry) throw new UsageError(`unknown command '${name}'`);
  if (name === "demo" && standaloneBuild()) {
    throw new CliError(
      "dbtunnel demo deploys the project's own stack with cdktf and Terraform, so it runs from a clone of the repository (npm ci && npm run demo); this executable has every other command.",
      { code: "DemoNeedsClone" },
    );
  }
  const command = await entry.load();
  const end = rest.indexOf("--");
  const head = end === -1 ? rest : rest.slice(0, end);
  if (head.includes("--help") || head.includes("-h")) {
    process.stdout.write(`${command.help.trimEnd()}\n`);
    return 0;
  }
  return command.run(rest, { ui, signal: shutdownSignal });
}

function stackOf(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  let text = error.stack ?? "";
  let cause: unknown = error.cause;
  while (cause instanceof Error) {
    text += `\nCaused by: ${cause.stack ?? cause.message}`;
    cause = cause.cause;
  }
  return text;
}

/** The AWS CLI runs `session-manager-plugin`: this executable is one when invoked under that name. */
const PLUGIN_NAME = "session-manager-plugin";

/** True when this process was started as `session-manager-plugin` (a link or copy of the executable). */
export function invokedAsPlugin(argv0: string): boolean {
  const base = argv0.split(/[\\/]/).pop() ?? "";
  return base.replace(/\.exe$/i, "") === PLUGIN_NAME;
}

/** The drop-in plugin owns the process from here: its own signals, its own exit codes, no CLI framing. */
async function runPluginMode(args: readonly string[]): Promise<never> {
  const { pluginMain } = await import("../tunnel/plugin-entry.ts");
  process.exit(await pluginMain(args));
}

if (import.meta.main && invokedAsPlugin(process.argv0)) await runPluginMode(process.argv.slice(2));
if (import.meta.main && process.argv[2] === DAEMON_SUBCOMMAND) {
  // The sandbox daemon of a standalone executable (sandbox/commands.ts starts it): it handles its own
  // signals and runs until `dbtunnel sandbox down`.
  const { runDaemon } = await import("../sandbox/daemon.ts");
  await runDaemon(process.argv.slice(3));
  await new Promise<never>(() => {});
}
if (import.meta.main) {
  installLifecycle();
  // Crash paths: still one line, still clean up (the 'exit' handler runs sync cleanups too).
  const crash = (error: unknown) => {
    const flags = globalFlags(process.argv.slice(2));
    const failure = describeError(error);
    new Reporter(flags).error(failure.message, failure.code, flags.verbose ? stackOf(error) : undefined);
    runSyncCleanups();
    process.exit(1);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
  const code = await main(process.argv.slice(2));
  runSyncCleanups();
  process.exit(code);
}
