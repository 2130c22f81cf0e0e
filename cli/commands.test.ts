/**
 * The other commands through the real CLI: token, doctor (passing and failing checklists), audit (policy/),
 * sandbox up/status/down (sandbox/commands.ts), and the router's help.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NOISE_SUPPRESSIONS, secureStack } from "../policy/fixtures/secure-stack.ts";
import {
  type FixtureSandbox,
  runCli,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { expectNoSecrets, failureLine } from "../test-support/cli/helpers.ts";

let sandbox: FixtureSandbox;
let stack: SeededStack;
let stopped: SeededStack;
const dir = mkdtempSync(join(tmpdir(), "dbtunnel-commands-"));

beforeAll(async () => {
  sandbox = await startFixtureSandbox();
  [stack, stopped] = await Promise.all([seedStack(sandbox), seedStack(sandbox, { stopped: true })]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([stack?.cleanup(), stopped?.cleanup()]);
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("dbtunnel token", () => {
  test("prints one token for the real endpoint and port; --json carries the details", async () => {
    const plain = await runCli(["token", "-o", stack.outputsFile], sandbox.env);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toStartWith(`${stack.endpoint}:5432/?Action=connect&DBUser=app_user&`);
    expect(plain.stdout.trim().split("\n")).toHaveLength(1);
    const json = await runCli(["token", "-o", stack.outputsFile, "--json"], sandbox.env);
    const parsed = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(parsed).toMatchObject({
      type: "token",
      endpoint: stack.endpoint,
      port: 5432,
      user: "app_user",
      expiresInSeconds: 900,
    });
    expect(String(parsed.token)).toContain("X-Amz-Signature=");
  }, 30_000);
});

describe("dbtunnel doctor", () => {
  test("all checks pass for a healthy stack", async () => {
    const run = await runCli(["doctor", "-o", stack.outputsFile], sandbox.env);
    expect(run.exitCode).toBe(0);
    for (const name of [
      "region",
      "credentials",
      "stack",
      "jump host",
      "IAM database auth",
      "CA bundle",
      "client",
      "local port",
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^✓ ${name}`, "m"));
    }
    expect(run.stdout).toContain("Session Manager online");
    expect(run.stdout.trim().split("\n").at(-1)).toBe("All checks passed.");
  }, 30_000);

  test("failures come with their fix and exit 1; a stopped jump host is only a warning", async () => {
    const env = { ...sandbox.env, DBTUNNEL_CA_BUNDLE: join(dir, "missing-ca.pem"), PATH: dir };
    const run = await runCli(["doctor", "-o", stopped.outputsFile, "--json"], env);
    expect(run.exitCode).toBe(1);
    const checks = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const byName = Object.fromEntries(checks.filter((c) => c.type === "check").map((c) => [c.name, c]));
    expect(byName["jump host"]).toMatchObject({ status: "warn", detail: `${stopped.instanceId} is stopped` });
    expect(byName["CA bundle"]).toMatchObject({ status: "fail" });
    expect(String(byName["CA bundle"]?.fix)).toContain("cannot be read (no such file)");
    expect(byName.client).toMatchObject({ status: "fail", detail: "psql not found" });
    expect(checks.at(-1)).toEqual({ type: "summary", ok: false, failed: 2, checks: 8 });
  }, 30_000);

  test("without credentials the dependent checks are skipped, not failed noisily", async () => {
    const env = {
      ...sandbox.env,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
    };
    const run = await runCli(["doctor", "--region", sandbox.region], env);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/^✗ credentials .*\n {2}fix: No AWS credentials found/m);
    expect(run.stdout).toMatch(/^- stack +needs credentials/m);
    expectNoSecrets(run.stdout + run.stderr, sandbox.env);
  }, 30_000);
});

describe("dbtunnel audit", () => {
  const config = JSON.parse(
    readFileSync(join(import.meta.dir, "..", "dbtunnel.config.json"), "utf8"),
  ) as Record<string, unknown>;
  const configFile = join(dir, "dbtunnel.config.json");
  writeFileSync(configFile, JSON.stringify({ ...config, policy: { suppressions: NOISE_SUPPRESSIONS } }));

  test("a clean stack passes; an added 0.0.0.0/0 ingress fails with the rule ids (exit 1)", async () => {
    const clean = join(dir, "clean.cdk.tf.json");
    writeFileSync(clean, JSON.stringify(secureStack()));
    const ok = await runCli(["audit", clean, "--config", configFile], {});
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/\d+ passed, 0 failed/);

    const tf = secureStack();
    tf.resource.aws_security_group.jumphost.ingress = [
      { protocol: "tcp", from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"], description: "debug" },
    ];
    const bad = join(dir, "bad.cdk.tf.json");
    writeFileSync(bad, JSON.stringify(tf));
    const failed = await runCli(["audit", bad, "--config", configFile], {});
    expect(failed.exitCode).toBe(1);
    for (const id of ["DBT-INGRESS-1", "DBT-INGRESS-2", "CKV_AWS_24"]) expect(failed.stdout).toContain(id);

    const json = await runCli(["audit", bad, "--config", configFile, "--json"], {});
    expect(json.exitCode).toBe(1);
    const report = JSON.parse(json.stdout) as { type: string; violations: { ruleId: string }[] };
    expect(report.type).toBe("audit");
    expect([...new Set(report.violations.map((v) => v.ruleId))].sort()).toEqual([
      "CKV_AWS_24",
      "DBT-INGRESS-1",
      "DBT-INGRESS-2",
    ]);
  }, 30_000);

  test("a missing file or a bad config is one line", async () => {
    const missing = await runCli(["audit", join(dir, "nope.json"), "--config", configFile], {});
    expect(missing.exitCode).toBe(1);
    expect(failureLine(missing.stderr)).toContain("nope.json");
    const badConfig = join(dir, "bad-config.json");
    writeFileSync(
      badConfig,
      JSON.stringify({ ...config, policy: { suppressions: [{ ruleId: "CKV_AWS_157" }] } }),
    );
    const run = await runCli(["audit", join(dir, "nope.json"), "--config", badConfig], {});
    expect(run.exitCode).toBe(1);
    expect(failureLine(run.stderr)).toContain("reason");
  }, 30_000);
});

describe("dbtunnel sandbox", () => {
  test("up prints export lines that work with eval, status reports health, down stops it", async () => {
    const home = mkdtempSync(join(tmpdir(), "dbtunnel-home-"));
    const env = { DBTUNNEL_HOME: home };
    try {
      const up = await runCli(["sandbox", "up"], env, { timeoutMs: 60_000 });
      expect(up.exitCode).toBe(0);
      expect(up.stdout).toMatch(/^export AWS_ENDPOINT_URL=/m);
      expect(up.stdout).toMatch(/^export DBTUNNEL_CA_BUNDLE=/m);
      const shell = Bun.spawn(
        [
          "sh",
          "-c",
          `${up.stdout}\n"$0" "$1" doctor --region "$AWS_REGION" --json`,
          process.execPath,
          join(import.meta.dir, "main.ts"),
        ],
        {
          env: {
            PATH: process.env.PATH ?? "",
            DBTUNNEL_HOME: home,
            AWS_CONFIG_FILE: "/dev/null",
            AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
          },
          stdout: "pipe",
        },
      );
      const doctor = await new Response(shell.stdout).text();
      await shell.exited;
      // The fresh sandbox has credentials and a CA but no stack yet.
      expect(doctor).toContain('"name":"credentials","status":"ok"');
      expect(doctor).toContain('"name":"stack","status":"fail"');
      const status = await runCli(["sandbox", "status"], env);
      expect(status.exitCode).toBe(0);
      expect(status.stdout).toMatch(/^ok +gateway/m);
    } finally {
      const down = await runCli(["sandbox", "down"], env, { timeoutMs: 30_000 });
      expect(down.exitCode).toBe(0);
      rmSync(home, { recursive: true, force: true });
    }
    const after = await runCli(["sandbox", "status"], env);
    expect(after.exitCode).toBe(1);
  }, 90_000);

  test("unknown actions are usage errors", async () => {
    const run = await runCli(["sandbox", "reboot"], {});
    expect(run.exitCode).toBe(2);
    expect(failureLine(run.stderr)).toBe(
      "unknown sandbox action 'reboot' (up, down or status) (see 'dbtunnel sandbox --help')",
    );
  });
});

describe("router", () => {
  test("every command has --help with examples", async () => {
    for (const command of ["connect", "token", "doctor", "audit", "sandbox"]) {
      const run = await runCli([command, "--help"], {});
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toContain(`Usage: dbtunnel ${command}`);
      expect(run.stdout).toContain("Examples:");
    }
  });
});
