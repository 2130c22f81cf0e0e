/**
 * `dbtunnel sandbox up|down|status`: the local sandbox account (moto + SSM gateway/agent emulator +
 * PostgreSQL with IAM-token auth). The logic lives in sandbox/commands.ts; this wires it to the CLI.
 */

import * as sandbox from "../../sandbox/commands.ts";
import { parseCommandArgs } from "../args.ts";
import type { CommandContext } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { selfCommand } from "../self-command.ts";
import { assertUsableHome } from "../state-home.ts";

export const help = `Usage: dbtunnel sandbox <up|down|status> [--seed [--stack <name>] [--user <db user>]] [--region <region>] [--json]

A local "AWS account" on this machine: moto for the AWS APIs, a Session Manager gateway and agent emulator,
and a real PostgreSQL that verifies RDS IAM tokens, with its own CA. No AWS account needed.

  up       start it in the background (or report the running one) and print its environment as
           'export' lines: AWS_ENDPOINT_URL, sandbox credentials, AWS_REGION, DBTUNNEL_CA_BUNDLE
           --seed: also create a ready stack in it through the AWS APIs, in seconds (jump host, RDS
           PostgreSQL with IAM auth, IAM database user, outputs file) and print the connect command
  down     stop it and remove its files (and everything in it); prints the 'unset' line for the
           variables 'up' exported: eval "$(dbtunnel sandbox down)"
  status   health of each part (exit 1 unless all are healthy)

Options:
      --seed             with up: seed a ready stack (again: reuses it)
      --stack <name>     with --seed: the stack's name (default sandbox-demo)
      --user <db user>   with --seed: the IAM database user (default app_engineer)
      --region <region>  region of a new sandbox (default us-east-1)
      --json             one JSON object instead of text

State lives under $DBTUNNEL_HOME (default ~/.local/state/dbtunnel)/sandbox.

Examples:
  eval "$(dbtunnel sandbox up)"
  eval "$(dbtunnel sandbox up --seed)"
  dbtunnel sandbox status
  eval "$(dbtunnel sandbox down)"`;

const OPTIONS = {
  region: { type: "string" },
  seed: { type: "boolean" },
  stack: { type: "string" },
  user: { type: "string" },
} as const;

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "dbtunnel sandbox", true);
  const [action, extra] = positionals;
  if (!action) throw new UsageError("sandbox needs an action: up, down or status", "dbtunnel sandbox --help");
  if (extra) throw new UsageError(`unexpected argument '${extra}'`, "dbtunnel sandbox --help");
  if (action !== "up" && action !== "down" && action !== "status") {
    throw new UsageError(
      `unknown sandbox action '${action}' (up, down or status)`,
      "dbtunnel sandbox --help",
    );
  }
  if ((values.stack || values.user) && !values.seed) {
    throw new UsageError("--stack and --user go with 'up --seed'", "dbtunnel sandbox --help");
  }
  if (values.seed && action !== "up") {
    throw new UsageError("--seed goes with 'up'", "dbtunnel sandbox --help");
  }
  if (action === "up") assertUsableHome();
  const { ui } = ctx;
  const self = selfCommand();
  try {
    if (action === "up") {
      const result = await sandbox.sandboxUp(values.region ? { region: values.region } : {});
      const seeded = values.seed
        ? await sandbox.sandboxSeed({
            ...(values.stack ? { stackName: values.stack } : {}),
            ...(values.user ? { dbUser: values.user } : {}),
          })
        : undefined;
      ui.event({ type: "sandbox", action, ...result, ...(seeded ? { seed: seeded } : {}) });
      ui.result(sandbox.formatEnvExports(result.env));
      const up = values.seed ? `${self} sandbox up --seed` : `${self} sandbox up`;
      ui.info(
        result.status === "already-running"
          ? `Sandbox already running (pid ${result.pid}). Use it with: eval "$(${up})"`
          : `Sandbox started (pid ${result.pid}). Use it with: eval "$(${up})"`,
      );
      if (seeded) {
        ui.info(
          [
            `${seeded.status === "seeded" ? "Seeded" : "Reusing"} stack ${seeded.stackName} (IAM database user ${seeded.dbUser}). After the eval, connect with:`,
            `  ${self} connect --outputs ${seeded.outputsFile}`,
          ].join("\n"),
        );
      }
      return 0;
    }
    if (action === "down") {
      const result = await sandbox.sandboxDown();
      ui.event({ type: "sandbox", action, ...result });
      // On stdout, for eval "$(dbtunnel sandbox down)": the shell forgets the sandbox's variables.
      ui.result(sandbox.formatEnvUnset());
      ui.info(
        result.status === "stopped" ? `Sandbox stopped (pid ${result.pid}).` : "No sandbox was running.",
      );
      return 0;
    }
    const status = await sandbox.sandboxStatus();
    ui.event({ type: "sandbox", action, ...status });
    ui.result(sandbox.formatSandboxStatus(status));
    return status.running && status.healthy ? 0 : 1;
  } catch (error) {
    if (error instanceof sandbox.SandboxCommandError) {
      throw new CliError(error.message, { code: "Sandbox", cause: error });
    }
    throw error;
  }
}
