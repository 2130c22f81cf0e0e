/**
 * The nightly proof, also run on every change: deploy the default stack, tunnel in, log in with an IAM
 * token under sslmode=verify-full, prove there is no ingress, destroy, prove nothing is left.
 * - sandbox target: always, two stacks at once (test.concurrent: two sandboxes whose Terraform waits
 *   overlap): the default (EC2 jump host + PostgreSQL) and the ecs-mysql variant (ECS Fargate jump host
 *   with ECS Exec + RDS MySQL with IAM authentication, the real mariadb client); about 7 minutes, mostly
 *   Terraform's own waits;
 * - aws target: only with DBTUNNEL_E2E=aws and DBTUNNEL_E2E_ACCOUNT matching the credentials' account.
 * Each target writes its steps to e2e/reports/junit.xml and the log to e2e/reports/<target>.log.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FlowTarget, runFlow } from "../cli/demo/flow.ts";
import { formatMs } from "../cli/demo/runner.ts";
import { PROJECT_ROOT } from "../cli/demo/terraform.ts";
import { DEMO_VARIANTS, type DemoVariant } from "../cli/demo/variants.ts";
import { AWS_NOT_CONFIGURED, assertAccount, selectAwsTarget } from "./aws-guard.ts";
import { ConsoleReporter } from "./console-reporter.ts";
import { type JUnitSuite, writeJUnit } from "./junit.ts";
import { suiteSteps } from "./suite-steps.ts";

const REPORT_DIR = join(PROJECT_ROOT, "e2e", "reports");
/** Terraform's waits make apply ≈ 3 min and destroy ≈ 1.5 min on moto; real AWS RDS takes far longer. */
const SANDBOX_TIMEOUT_MS = 15 * 60_000;
const AWS_TIMEOUT_MS = 60 * 60_000;

const suites: JUnitSuite[] = [];

afterAll(() => {
  if (suites.length > 0) writeJUnit(join(REPORT_DIR, "junit.xml"), suites);
});

async function runTarget(
  target: FlowTarget,
  awsAccount?: string,
  variant: DemoVariant = "default",
): Promise<void> {
  const label = variant === "default" ? target : `${target}-${variant}`;
  const reporter = new ConsoleReporter(`e2e:${label}`);
  const timestamp = new Date().toISOString();
  const started = performance.now();
  const outcome = await runFlow({
    target,
    reporter,
    namePrefix: variant === "default" ? "e2e" : `e2e-${variant}`,
    showAuditTable: variant === "default",
    verifyAccount: awsAccount ? (clients) => assertAccount(clients.sts, awsAccount) : undefined,
    configPath: join(PROJECT_ROOT, DEMO_VARIANTS[variant].configFile),
    extension: suiteSteps(target, variant),
  });
  reporter.info(
    `${outcome.error ? "FAILED" : "passed"} in ${formatMs(performance.now() - started)}: ${outcome.results
      .filter((r) => r.status !== "skipped")
      .map((r) => `${r.name} ${r.status === "failed" ? "FAILED " : ""}${formatMs(r.ms)}`)
      .join(", ")}`,
  );
  suites.push({
    name: `dbtunnel e2e (${label})`,
    results: outcome.results,
    timestamp,
    properties: { target, variant, stack: outcome.stackName, region: outcome.region },
    log: reporter.lines.join("\n"),
  });
  // The reports directory is gitignored, so a fresh clone does not have it.
  mkdirSync(REPORT_DIR, { recursive: true });
  writeFileSync(join(REPORT_DIR, `${label}.log`), `${reporter.lines.join("\n")}\n`);
  // The one-line message names the failed step, the cause and what was cleaned up.
  expect(outcome.error).toBeUndefined();
  expect(outcome.results.every((r) => r.status === "passed")).toBe(true);
}

test.concurrent(
  "e2e target=sandbox: deploy → tunnel → IAM + verify-full → no ingress → destroy → nothing left",
  async () => {
    await runTarget("sandbox");
  },
  SANDBOX_TIMEOUT_MS,
);

test.concurrent(
  "e2e target=sandbox variant=ecs-mysql: deploy → ECS task as Session Manager target → IAM token + hostname-verified TLS (mariadb) → no ingress → destroy → nothing left",
  async () => {
    await runTarget("sandbox", undefined, "ecs-mysql");
  },
  SANDBOX_TIMEOUT_MS,
);

const aws = selectAwsTarget(process.env);
if (aws === undefined) {
  test.skip(`e2e target=aws: ${AWS_NOT_CONFIGURED}`, () => {});
} else {
  test(
    "e2e target=aws: deploy → tunnel → IAM + verify-full → no ingress → destroy → nothing left",
    async () => {
      if (aws.target === "aws-misconfigured") throw new Error(aws.problem);
      await runTarget("aws", aws.account);
    },
    AWS_TIMEOUT_MS,
  );
}
