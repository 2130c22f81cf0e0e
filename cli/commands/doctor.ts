/**
 * `dbtunnel doctor`: a checklist of everything `connect` needs, each failure with its fix. Exit 1 when any
 * check fails. Checks that depend on a failed one are reported as skipped rather than failing noisily.
 */
import { parseCommandArgs, parsePort } from "../args.ts";
import { type AwsClients, awsClients, resolveRegion } from "../aws.ts";
import { resolveCaBundle } from "../ca-bundle.ts";
import type { CommandContext } from "../command.ts";
import { describeError } from "../errors.ts";
import { instanceState, ssmPingStatus } from "../jump-host.ts";
import { assertLocalPortFree } from "../local-port.ts";
import { findTarget, QUIET } from "../pipeline/index.ts";
import { isMysql, type StackTarget } from "../target.ts";
import { TARGET_HELP, TARGET_OPTIONS } from "../target-options.ts";
import type { Reporter } from "../ui.ts";

export const help = `Usage: dbtunnel doctor [target options] [--local-port <n>] [--ca-bundle <pem>] [--json]

Checks, in order: AWS credentials (sts:GetCallerIdentity), region, the stack, the jump host's state and
Session Manager status, IAM database authentication, the CA bundle, the database client (psql/mysql) and
the local port. Prints a checklist with the fix for each failure; exits 1 if any check fails.

${TARGET_HELP}

Options:
  -p, --local-port <n>   also check that this local port is free
      --ca-bundle <pem>  CA bundle to check instead of DBTUNNEL_CA_BUNDLE / the cached RDS bundle
      --json             one {"type":"check",...} line per check, then {"type":"summary",...}

Examples:
  dbtunnel doctor --outputs outputs.json
  dbtunnel doctor --stack dev --region eu-west-1 --json`;

const OPTIONS = {
  ...TARGET_OPTIONS,
  "local-port": { type: "string", short: "p" },
  "ca-bundle": { type: "string" },
} as const;

export type CheckStatus = "ok" | "warn" | "fail" | "skip";
export interface CheckResult {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
  readonly fix?: string;
}

export async function run(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs(argv, OPTIONS, "dbtunnel doctor");
  const localPort = parsePort(values["local-port"], "--local-port", "dbtunnel doctor");
  const checks: CheckResult[] = [];
  const report = (check: CheckResult) => {
    checks.push(check);
    printCheck(ctx.ui, check);
  };

  // Region: the outputs file carries it; otherwise the environment / profile.
  let region: string | undefined;
  let target: StackTarget | undefined;
  let targetError: string | undefined;
  if (values.outputs) {
    try {
      // Quiet: the checklist reports the stack as one of its checks.
      target = await findTarget(
        {
          outputs: values.outputs,
          stack: values.stack,
          db: values.db,
          region: values.region,
          interactive: false,
        },
        QUIET,
      );
      region = target.region;
    } catch (error) {
      targetError = describeError(error).message;
    }
  }
  if (!region) {
    try {
      region = await resolveRegion(values.region);
    } catch (error) {
      report({ name: "region", status: "fail", detail: "not set", fix: describeError(error).message });
    }
  }
  if (region) report({ name: "region", status: "ok", detail: region });

  const aws = region ? awsClients(region) : undefined;
  let credentialsOk = false;
  if (!aws) report({ name: "credentials", status: "skip", detail: "needs a region" });
  else {
    try {
      const { GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
      const me = await (await aws.sts()).send(new GetCallerIdentityCommand({}));
      credentialsOk = true;
      report({ name: "credentials", status: "ok", detail: me.Arn ?? me.Account ?? "valid" });
    } catch (error) {
      report({
        name: "credentials",
        status: "fail",
        detail: "sts:GetCallerIdentity failed",
        fix: describeError(error).message,
      });
    }
  }

  if (!target && !targetError && aws && credentialsOk) {
    try {
      target = await findTarget({ stack: values.stack, db: values.db, region, interactive: false }, QUIET);
    } catch (error) {
      targetError = describeError(error).message;
    }
  }
  if (target) {
    report({
      name: "stack",
      status: "ok",
      detail: `${target.stackName} (${target.db.engine} ${target.db.identifier}, from ${target.source})`,
    });
  } else if (targetError) report({ name: "stack", status: "fail", detail: "not found", fix: targetError });
  else report({ name: "stack", status: "skip", detail: "needs credentials" });

  if (target && aws && credentialsOk) {
    report(await jumpHostCheck(aws, target));
    report(await iamAuthCheck(aws, target));
  } else {
    report({ name: "jump host", status: "skip", detail: "needs the stack and credentials" });
    report({ name: "IAM database auth", status: "skip", detail: "needs the stack and credentials" });
  }

  try {
    const ca = await resolveCaBundle({ flag: values["ca-bundle"] });
    report({
      name: "CA bundle",
      status: "ok",
      detail: `${ca.path} (${ca.certificates} certificates, ${ca.source})`,
    });
  } catch (error) {
    report({ name: "CA bundle", status: "fail", detail: "unusable", fix: describeError(error).message });
  }

  const program = target && isMysql(target.db.engine) ? "mysql" : "psql";
  const found = Bun.which(program);
  report(
    found
      ? { name: "client", status: "ok", detail: `${program} at ${found}` }
      : {
          name: "client",
          status: "fail",
          detail: `${program} not found`,
          fix: `Install ${program === "psql" ? "the PostgreSQL client (apt install postgresql-client / brew install libpq)" : "the MySQL client"}, or use 'connect --exec'.`,
        },
  );

  if (localPort === undefined)
    report({ name: "local port", status: "ok", detail: "a free port is chosen at connect" });
  else {
    try {
      await assertLocalPortFree(localPort);
      report({ name: "local port", status: "ok", detail: `${localPort} is free` });
    } catch (error) {
      report({
        name: "local port",
        status: "fail",
        detail: `${localPort} is in use`,
        fix: describeError(error).message,
      });
    }
  }

  const failed = checks.filter((c) => c.status === "fail").length;
  ctx.ui.event({ type: "summary", ok: failed === 0, failed, checks: checks.length });
  if (!ctx.ui.json) {
    ctx.ui.result(failed === 0 ? "All checks passed." : `${failed} check${failed === 1 ? "" : "s"} failed.`);
  }
  return failed === 0 ? 0 : 1;
}

async function jumpHostCheck(aws: AwsClients, target: StackTarget): Promise<CheckResult> {
  const name = "jump host";
  try {
    if (target.jumpHost.kind === "ecs") {
      const { ListTasksCommand } = await import("@aws-sdk/client-ecs");
      const { cluster, service } = target.jumpHost;
      const tasks = await (await aws.ecs()).send(
        new ListTasksCommand({ cluster, serviceName: service, desiredStatus: "RUNNING" }),
      );
      return (tasks.taskArns?.length ?? 0) > 0
        ? { name, status: "ok", detail: `${cluster}/${service}: ${tasks.taskArns?.length} running task(s)` }
        : {
            name,
            status: "fail",
            detail: `${cluster}/${service}: no running task`,
            fix: `Scale the service to 1 ('aws ecs update-service --cluster ${cluster} --service ${service} --desired-count 1').`,
          };
    }
    const id = target.jumpHost.instanceId;
    const state = await instanceState(aws, id);
    if (state === "missing" || state === "terminated" || state === "shutting-down") {
      return {
        name,
        status: "fail",
        detail: `${id} is ${state}`,
        fix: "Redeploy the stack ('cdktf deploy') and refresh the outputs file.",
      };
    }
    if (state !== "running") {
      return {
        name,
        status: "warn",
        detail: `${id} is ${state}`,
        fix: "'dbtunnel connect' starts it and waits until Session Manager reports it online.",
      };
    }
    const ping = await ssmPingStatus(aws, id);
    if (ping === undefined)
      return {
        name,
        status: "warn",
        detail: `${id} running; Session Manager status unavailable (ssm:DescribeInstanceInformation)`,
      };
    if (ping !== "Online") {
      return {
        name,
        status: "fail",
        detail: `${id} running, Session Manager: ${ping}`,
        fix: "Check the SSM agent on the jump host and its route to the ssm/ssmmessages VPC endpoints.",
      };
    }
    return { name, status: "ok", detail: `${id} running, Session Manager online` };
  } catch (error) {
    return { name, status: "fail", detail: "cannot be described", fix: describeError(error).message };
  }
}

async function iamAuthCheck(aws: AwsClients, target: StackTarget): Promise<CheckResult> {
  const name = "IAM database auth";
  try {
    let enabled = target.db.iamAuthEnabled;
    if (enabled === undefined) {
      const rds = await aws.rds();
      const { DescribeDBInstancesCommand, DescribeDBClustersCommand } = await import("@aws-sdk/client-rds");
      if (target.db.engine.startsWith("aurora")) {
        const out = await rds.send(
          new DescribeDBClustersCommand({ DBClusterIdentifier: target.db.identifier }),
        );
        enabled = out.DBClusters?.[0]?.IAMDatabaseAuthenticationEnabled;
      } else {
        const out = await rds.send(
          new DescribeDBInstancesCommand({ DBInstanceIdentifier: target.db.identifier }),
        );
        enabled = out.DBInstances?.[0]?.IAMDatabaseAuthenticationEnabled;
      }
    }
    return enabled
      ? { name, status: "ok", detail: `enabled on ${target.db.identifier}` }
      : {
          name,
          status: "fail",
          detail: `disabled on ${target.db.identifier}`,
          fix: "Enable IAM database authentication in the stack (iam_database_authentication_enabled) and redeploy.",
        };
  } catch (error) {
    return {
      name,
      status: "fail",
      detail: `cannot describe ${target.db.identifier}`,
      fix: describeError(error).message,
    };
  }
}

function printCheck(ui: Reporter, check: CheckResult): void {
  ui.event({ type: "check", ...check });
  if (ui.json) return;
  const mark = {
    ok: ui.paint("32", "✓"),
    warn: ui.paint("33", "!"),
    fail: ui.paint("31", "✗"),
    skip: ui.paint("2", "-"),
  }[check.status];
  ui.result(
    `${mark} ${check.name.padEnd(18)} ${check.detail}${check.fix ? `\n  ${ui.paint("2", "fix:")} ${check.fix}` : ""}`,
  );
}
