/**
 * `dbtunnel audit <cdk.tf.json>`: runs the project's security rules (policy/) over a synthesized stack,
 * honouring the suppressions in dbtunnel.config.json. Exit 1 when any rule is violated.
 */
import { existsSync } from "node:fs";
import type { PolicyReport, RuleSuppression } from "../../policy/index.ts";
import { parseCommandArgs } from "../args.ts";
import type { CommandContext } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";

export const help = `Usage: dbtunnel audit <cdk.tf.json> [--config <dbtunnel.config.json>] [--json]

Checks a synthesized Terraform JSON file (cdktf.out/stacks/<stack>/cdk.tf.json) against the security rules
(zero ingress, encryption, IAM auth, TLS, ...). Prints a table with the rule id, resource and fix for each
violation; exits 1 when there is any. Suppressions come from 'policy.suppressions' in the config file
(each needs a reason).

Options:
      --config <file>  config with policy.suppressions (default: ./dbtunnel.config.json if it exists)
      --json           one {"type":"audit","results":[...],"violations":[...]} line

Examples:
  dbtunnel audit cdktf.out/stacks/dev/cdk.tf.json
  dbtunnel audit hand-edited.tf.json --json | jq '.violations[].ruleId'`;

const OPTIONS = { config: { type: "string", short: "c" } } as const;

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "dbtunnel audit", true);
  const [file, extra] = positionals;
  if (!file) throw new UsageError("audit needs the path of a cdk.tf.json", "dbtunnel audit --help");
  if (extra) throw new UsageError(`audit takes one file, got also '${extra}'`, "dbtunnel audit --help");

  // Imported on use (literal paths): `dbtunnel audit --help` must not load the rules and cdktf.
  const [{ auditFile, renderAuditTable }, { loadConfig }] = await Promise.all([
    import("../../policy/index.ts"),
    import("../../stacks/config.ts"),
  ]);
  const suppressions = loadSuppressions(values.config, loadConfig);
  let report: PolicyReport;
  try {
    report = auditFile(file, { suppressions });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), {
      code: "AuditInput",
      cause: error,
    });
  }
  if (ctx.ui.json) {
    ctx.ui.event({ type: "audit", file, results: report.results, violations: report.violations });
  } else {
    ctx.ui.result(renderAuditTable(report));
  }
  return report.violations.length > 0 ? 1 : 0;
}

function loadSuppressions(
  flag: string | undefined,
  loadConfig: (path: string) => { policy?: { suppressions?: readonly RuleSuppression[] } },
): readonly RuleSuppression[] {
  const path = flag ?? (existsSync("dbtunnel.config.json") ? "dbtunnel.config.json" : undefined);
  if (!path) return [];
  if (!existsSync(path)) {
    throw new CliError(`Config file ${path} does not exist: fix --config or omit it.`, {
      code: "ConfigError",
    });
  }
  try {
    return loadConfig(path).policy?.suppressions ?? [];
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), {
      code: "ConfigError",
      cause: error,
    });
  }
}
