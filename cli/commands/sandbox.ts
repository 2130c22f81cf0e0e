/**
 * `dbtunnel sandbox up|down|status`: the local sandbox account (moto + SSM gateway/agent emulator +
 * PostgreSQL with IAM-token auth). The logic lives in sandbox/commands.ts; this wires it to the CLI.
 */
import { parseCommandArgs } from "../args.ts";
import { exportLines } from "../client-env.ts";
import type { CommandContext } from "../command.ts";
import { UsageError } from "../errors.ts";
import { importProjectModule } from "../optional-module.ts";

export const help = `Usage: dbtunnel sandbox <up|down|status> [--json]

A local "AWS account" on this machine: moto for the AWS APIs, a Session Manager gateway and agent emulator,
and a real PostgreSQL that verifies RDS IAM tokens, with its own CA. No AWS account needed.

  up       start it in the background (or report the running one) and print its environment as
           'export' lines: AWS_ENDPOINT_URL, sandbox credentials, AWS_REGION, DBTUNNEL_CA_BUNDLE
  down     stop it and remove its files
  status   health of each part

Options:
      --json   one JSON object per line instead of text

Examples:
  eval "$(dbtunnel sandbox up)"
  dbtunnel sandbox status
  dbtunnel sandbox down`;

interface SandboxCommands {
  sandboxUp(options?: Record<string, unknown>): Promise<unknown>;
  sandboxDown(options?: Record<string, unknown>): Promise<unknown>;
  sandboxStatus(options?: Record<string, unknown>): Promise<unknown>;
}

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { positionals } = parseCommandArgs(argv, {}, "dbtunnel sandbox", true);
  const [action, extra] = positionals;
  if (!action) throw new UsageError("sandbox needs an action: up, down or status", "dbtunnel sandbox --help");
  if (extra) throw new UsageError(`unexpected argument '${extra}'`, "dbtunnel sandbox --help");
  if (action !== "up" && action !== "down" && action !== "status") {
    throw new UsageError(
      `unknown sandbox action '${action}' (up, down or status)`,
      "dbtunnel sandbox --help",
    );
  }
  const sandbox = await importProjectModule<SandboxCommands>("sandbox/commands.ts", "The sandbox");
  const { ui } = ctx;
  if (action === "up") {
    const result = await sandbox.sandboxUp({});
    const env = envOf(result);
    ui.event({ type: "sandbox", action, ...(asRecord(result) ?? {}), env });
    ui.result(exportLines(env));
    ui.info('Sandbox is up. Use it in this shell with: eval "$(dbtunnel sandbox up)"');
    return 0;
  }
  if (action === "down") {
    const result = await sandbox.sandboxDown({});
    ui.event({ type: "sandbox", action, ...(asRecord(result) ?? {}) });
    ui.info("Sandbox stopped.");
    return 0;
  }
  const status = await sandbox.sandboxStatus({});
  ui.event({ type: "sandbox", action, ...(asRecord(status) ?? { status }) });
  const record = asRecord(status);
  ui.result(renderStatus(record));
  const running = record?.running ?? record?.healthy ?? record?.ok;
  return running === false ? 1 : 0;
}

function envOf(result: unknown): Record<string, string> {
  const record = asRecord(result);
  const env = asRecord(record?.env) ?? record ?? {};
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

function renderStatus(status: Record<string, unknown> | undefined): string {
  if (!status) return "No sandbox is running.";
  return Object.entries(status)
    .filter(([key]) => key !== "env")
    .map(
      ([key, value]) =>
        `${key.padEnd(12)} ${typeof value === "object" ? JSON.stringify(value) : String(value)}`,
    )
    .join("\n");
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
