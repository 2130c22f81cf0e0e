/**
 * `dbtunnel audit <cdk.tf.json>`: runs the project's security rules (policy/) over a synthesized stack,
 * honouring the suppressions in dbtunnel.config.json. Exit 1 when any rule is violated.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseCommandArgs } from "../args.ts";
import type { CommandContext } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { importProjectModule } from "../optional-module.ts";

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

interface RuleSuppression {
  readonly ruleId: string;
  readonly reason: string;
}
interface RuleResult {
  readonly ruleId: string;
  readonly status: string;
  readonly resource?: string;
  readonly message: string;
  readonly fix: string;
}
interface PolicyReport {
  readonly results: RuleResult[];
  readonly violations: RuleResult[];
}
interface PolicyModule {
  auditFile(path: string, opts?: { suppressions?: readonly RuleSuppression[] }): PolicyReport;
  renderAuditTable(report: PolicyReport): string;
}
interface ConfigModule {
  loadConfig(path: string): { policy?: { suppressions?: readonly RuleSuppression[] } };
}

const OPTIONS = { config: { type: "string", short: "c" } } as const;

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, "dbtunnel audit", true);
  const [file, extra] = positionals;
  if (!file) throw new UsageError("audit needs the path of a cdk.tf.json", "dbtunnel audit --help");
  if (extra) throw new UsageError(`audit takes one file, got also '${extra}'`, "dbtunnel audit --help");

  const suppressions = await loadSuppressions(values.config);
  const policy = await importProjectModule<PolicyModule>("policy/index.ts", "The policy checker");
  let report: PolicyReport;
  try {
    report = policy.auditFile(file, { suppressions });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error), {
      code: "AuditInput",
      cause: error,
    });
  }
  if (ctx.ui.json) {
    ctx.ui.event({ type: "audit", file, results: report.results, violations: report.violations });
  } else {
    ctx.ui.result(policy.renderAuditTable(report));
  }
  return report.violations.length > 0 ? 1 : 0;
}

async function loadSuppressions(flag: string | undefined): Promise<readonly RuleSuppression[]> {
  const path = flag ?? (existsSync("dbtunnel.config.json") ? "dbtunnel.config.json" : undefined);
  if (!path) return [];
  if (!existsSync(path)) {
    throw new CliError(`Config file ${path} does not exist: fix --config or omit it.`, {
      code: "ConfigError",
    });
  }
  const root = await importProjectModule<ConfigModule>("stacks/config.ts", "The config loader").catch(
    () => undefined,
  );
  if (root) {
    try {
      return root.loadConfig(path).policy?.suppressions ?? [];
    } catch (error) {
      throw new CliError(error instanceof Error ? error.message : String(error), {
        code: "ConfigError",
        cause: error,
      });
    }
  }
  // Config loader not built yet: read only the suppressions (policy/ validates them itself).
  try {
    const raw = JSON.parse(readFileSync(path, "utf8")) as { policy?: { suppressions?: RuleSuppression[] } };
    return raw.policy?.suppressions ?? [];
  } catch {
    throw new CliError(`Config file ${path} is not valid JSON: fix it or pass another with --config.`, {
      code: "ConfigError",
    });
  }
}
