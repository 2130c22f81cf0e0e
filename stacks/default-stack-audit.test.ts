import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";
import { auditFile } from "../policy/audit-file.ts";
import { renderAuditTable } from "../policy/audit-table.ts";
import { evaluatePolicy } from "../policy/evaluate.ts";
import type { PolicyReport } from "../policy/types.ts";
import { buildApp } from "./app.ts";
import { loadConfig, parseConfig } from "./config.ts";
import { builtInSuppressions, SecureDbAccessStack } from "./secure-db-access-stack.ts";

/**
 * The real stack, synthesized from the repository's dbtunnel.config.json (and variants of it), must pass
 * every rule with only its documented built-in opt-outs. The policy runs here with enforcement off in the
 * stack so a failure prints the whole audit table instead of the first synth error.
 */
const ROOT = join(import.meta.dir, "..");
type RawConfig = { stacks: Record<string, unknown>[] } & Record<string, unknown>;
const baseConfig = (): RawConfig => JSON.parse(readFileSync(join(ROOT, "dbtunnel.config.json"), "utf8"));

function audit(edit: (stack: Record<string, unknown>) => void): PolicyReport {
  const raw = baseConfig();
  const first = raw.stacks[0];
  if (!first) throw new Error("dbtunnel.config.json has no stacks");
  edit(first);
  const config = parseConfig(raw);
  const stackConfig = config.stacks[0];
  if (!stackConfig) throw new Error("no stack after parsing");
  const stack = new SecureDbAccessStack(Testing.app(), stackConfig.name, {
    config: stackConfig,
    enforcePolicy: false,
  });
  const testStack = stackConfig.database.mode === "create" && !stackConfig.database.deletionProtection;
  return evaluatePolicy(JSON.parse(Testing.synth(stack)), {
    suppressions: [...config.policy.suppressions, ...builtInSuppressions(stackConfig, testStack)],
  });
}

function expectClean(report: PolicyReport): void {
  if (report.violations.length > 0) throw new Error(`policy violations:\n${renderAuditTable(report)}`);
  // Not vacuous: the heart of the design was actually checked.
  for (const id of [
    "DBT-INGRESS-1",
    "DBT-INGRESS-3",
    "DBT-INGRESS-4",
    "DBT-HOST-2",
    "DBT-IAM-1",
    "DBT-IAM-3",
    "DBT-NET-1",
  ]) {
    expect(report.results.some((r) => r.ruleId === id && r.status === "compliant")).toBe(true);
  }
}

const SYNTH_TIMEOUT_MS = 60_000;

describe("the synthesized default stack", () => {
  test(
    "cdktf synth of the app passes the aspect, and dbtunnel audit of its cdk.tf.json agrees",
    () => {
      const outdir = mkdtempSync(join(tmpdir(), "dbtunnel-synth-"));
      try {
        buildApp(loadConfig(join(ROOT, "dbtunnel.config.json")), { outdir }).synth();
        const stacks = readdirSync(join(outdir, "stacks"));
        expect(stacks.length).toBeGreaterThan(0);
        for (const name of stacks) expectClean(auditFile(join(outdir, "stacks", name, "cdk.tf.json")));
      } finally {
        rmSync(outdir, { recursive: true, force: true });
      }
    },
    SYNTH_TIMEOUT_MS,
  );

  test(
    "dbtunnel.config.json as shipped passes every rule",
    () => expectClean(audit(() => {})),
    SYNTH_TIMEOUT_MS,
  );

  test(
    "production profile passes, noise rules included",
    () => {
      const report = audit((s) => {
        s.profile = "production";
      });
      expect(report.violations).toEqual([]);
      expect(report.results.find((r) => r.ruleId === "CKV_AWS_157")?.status).toBe("compliant");
    },
    SYNTH_TIMEOUT_MS,
  );

  for (const engine of ["aurora-postgresql", "mysql", "aurora-mysql"]) {
    test(
      `${engine} passes`,
      () => {
        const report = audit((s) => {
          (s.database as Record<string, unknown>).engine = engine;
        });
        expect(report.violations).toEqual([]);
      },
      SYNTH_TIMEOUT_MS,
    );
  }

  test(
    "a test stack (deletion protection off) passes only through its documented opt-out",
    () => {
      const report = audit((s) => {
        (s.database as Record<string, unknown>).deletionProtection = false;
      });
      expect(report.violations).toEqual([]);
      expect(report.results.find((r) => r.ruleId === "CKV_AWS_293")?.status).toBe("suppressed");
    },
    SYNTH_TIMEOUT_MS,
  );

  test(
    "an existing database passes",
    () => {
      const report = audit((s) => {
        s.database = {
          engine: "postgres",
          existing: { identifier: "prod-db", securityGroupId: "sg-0123456789abcdef0" },
          iamUsers: ["alice"],
        };
      });
      expect(report.violations).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  const byoVpc = {
    existingVpc: {
      vpcId: "vpc-0123abcd",
      subnetIds: ["subnet-0123abcd", "subnet-4567abcd"],
      routeTableIds: ["rtb-0123abcd"],
    },
  };

  test(
    "a brought-in VPC passes",
    () => {
      expect(
        audit((s) => {
          s.network = byoVpc;
        }).violations,
      ).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  test(
    "a brought-in VPC and database pass",
    () => {
      const report = audit((s) => {
        s.network = byoVpc;
        s.database = {
          engine: "postgres",
          iamUsers: ["alice"],
          existing: { identifier: "legacy", securityGroupId: "sg-0123abcd" },
        };
      });
      expect(report.violations).toEqual([]);
    },
    SYNTH_TIMEOUT_MS,
  );

  test(
    "allowInternetEgress is an explicit opt-in: DBT-INGRESS-5 is suppressed with its reason, nothing else trips",
    () => {
      const report = audit((s) => {
        s.network = { ...(s.network as Record<string, unknown>), allowInternetEgress: true };
      });
      expect(report.violations).toEqual([]);
      const optedIn = report.results.filter((r) => r.ruleId === "DBT-INGRESS-5" && r.status === "suppressed");
      expect(optedIn.map((r) => r.resource?.split(".")[0]).sort()).toEqual([
        "aws_eip",
        "aws_internet_gateway",
        "aws_nat_gateway",
        "aws_route",
        "aws_route",
      ]);
    },
    SYNTH_TIMEOUT_MS,
  );

  const ecsJumpHost = (containerImage: string) => (s: Record<string, unknown>) => {
    s.jumpHost = { kind: "ecs", containerImage, cpu: 256, memory: 512 };
  };

  test(
    "an ECS jump host with a public image passes without registry credentials",
    () => {
      const report = audit(ecsJumpHost("public.ecr.aws/amazonlinux/amazonlinux:2023"));
      expectClean(report);
      expect(report.results.some((r) => r.ruleId === "CKV_AWS_286" && r.status === "suppressed")).toBe(false);
    },
    SYNTH_TIMEOUT_MS,
  );

  test(
    "an ECS jump host from private ECR passes, with the ECR login recorded as a reasoned CKV_AWS_286 opt-out",
    () => {
      const report = audit(ecsJumpHost("123456789012.dkr.ecr.us-east-1.amazonaws.com/jumphost:1"));
      expectClean(report);
      const suppressed = report.results.filter(
        (r) => r.ruleId === "CKV_AWS_286" && r.status === "suppressed",
      );
      expect(suppressed.length).toBeGreaterThan(0);
    },
    SYNTH_TIMEOUT_MS,
  );
});
