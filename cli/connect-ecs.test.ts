/**
 * `dbtunnel connect` through an ECS Exec jump host end to end: the real CLI as a subprocess resolves the
 * service's running task to `ecs:<cluster>_<taskId>_<runtimeId>` (DescribeTasks through the sandbox, which
 * adds the runtime ids moto leaves out), the gateway accepts exactly that target, and real psql gets
 * through with verify-full TLS and an IAM token.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { SessionStats } from "../sandbox/gateway/types.ts";
import {
  type FixtureSandbox,
  runCli,
  type SeededEcsJumpHost,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { expectNoSecrets, failureLine } from "../test-support/cli/helpers.ts";
import { waitFor } from "../test-support/wait.ts";

let sandbox: FixtureSandbox;
let stack: SeededStack;
let jump: SeededEcsJumpHost;
let scaledIn: SeededStack;

beforeAll(async () => {
  sandbox = await startFixtureSandbox();
  [stack, scaledIn] = await Promise.all([
    seedStack(sandbox, { ecs: true, dbUser: "ecs_user" }),
    seedStack(sandbox, { ecs: true, stopped: true, dbUser: "scaled_in_user" }),
  ]);
  if (!stack.ecs) throw new Error("seedStack({ ecs: true }) returned no ECS jump host");
  jump = stack.ecs;
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([stack?.cleanup(), scaledIn?.cleanup()]);
  await sandbox?.stop();
});

const psql = ["--exec", "--", "psql", "-tAc", "select current_user"];

/** Targets of every Session Manager session the sandbox gateway has seen (ended ones included). */
async function sessionTargets(): Promise<string[]> {
  const res = await fetch(`${sandbox.env.AWS_ENDPOINT_URL}/_dbtunnel/sessions`);
  const { sessions } = (await res.json()) as { sessions: SessionStats[] };
  return sessions.map((s) => s.target);
}

describe("connect through an ECS Exec jump host", () => {
  test("the fixture's jump host is what AWS would show: a runtime id in AWS's format", () => {
    expect(stack.outputs).toMatchObject({
      jump_host_kind: "ecs",
      ecs_cluster: jump.cluster,
      ecs_service: jump.service,
    });
    expect(jump.runtimeId).toMatch(new RegExp(`^${jump.taskId.replaceAll("-", "")}-\\d{10}$`));
  });

  test("from the outputs file: psql runs through the task's ECS Exec target and no session is left", async () => {
    const before = (await sessionTargets()).length;
    const run = await runCli(["connect", "-o", stack.outputsFile, ...psql], sandbox.env);
    expect(run.stderr).toContain(`via ecs ${jump.cluster}/${jump.service}`);
    expect(run.stderr).toContain(
      `✓ finding a running task of ${jump.cluster}/${jump.service} (${jump.taskId})`,
    );
    expect(run.stdout.trim()).toBe("ecs_user");
    expect(run.exitCode).toBe(0);
    expectNoSecrets(run.stdout + run.stderr, sandbox.env);
    expect((await sessionTargets()).slice(before)).toEqual([jump.target]);
    expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  }, 30_000);

  test("--json reports the ECS jump host and the task it reached", async () => {
    const run = await runCli(["connect", "-o", stack.outputsFile, "--json", ...psql], sandbox.env);
    expect(run.exitCode).toBe(0);
    const events = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.find((e) => e.type === "target")).toMatchObject({
      stack: stack.stackName,
      source: "outputs",
      jumpHost: { kind: "ecs", cluster: jump.cluster, service: jump.service },
    });
    expect(
      events.find((e) => e.type === "step" && e.step === "ecs-task" && e.status === "done"),
    ).toMatchObject({
      detail: jump.taskId,
    });
    expect(events.find((e) => e.type === "session")).toMatchObject({ sessionId: expect.any(String) });
    expect(events.at(-1)).toEqual({ type: "exit", code: 0 });
    expect(run.stderr.trim()).toBe("ecs_user");
    expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  }, 30_000);

  test("by tags (no outputs file): the tagged ECS service is found as the stack's jump host", async () => {
    const before = (await sessionTargets()).length;
    const run = await runCli(
      ["connect", "--stack", stack.stackName, "--user", "ecs_user", "--json", ...psql],
      sandbox.env,
    );
    expect(run.exitCode).toBe(0);
    const events = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.find((e) => e.type === "target")).toMatchObject({
      stack: stack.stackName,
      source: "tags",
      jumpHost: { kind: "ecs", cluster: jump.cluster, service: jump.service },
    });
    expect(run.stderr.trim()).toBe("ecs_user");
    expect((await sessionTargets()).slice(before)).toEqual([jump.target]);
    expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  }, 30_000);

  test("a service without a running task: one line saying how to scale it up, no session", async () => {
    const cluster = scaledIn.ecs?.cluster ?? "";
    const before = (await sessionTargets()).length;
    const run = await runCli(["connect", "-o", scaledIn.outputsFile, ...psql], sandbox.env);
    expect(run.exitCode).toBe(1);
    expect(failureLine(run.stderr)).toBe(
      `ECS service ${cluster}/${cluster} has no running task: scale it up ('aws ecs update-service --cluster ${cluster} --service ${cluster} --desired-count 1') and retry.`,
    );
    expect(await sessionTargets()).toHaveLength(before);
    expectNoSecrets(run.stdout + run.stderr, sandbox.env);
  }, 30_000);

  test("StartSession denied on the task: names ssm:StartSession and the engineer policy", async () => {
    const run = await runCli(["connect", "-o", stack.outputsFile, ...psql], sandbox.restrictedEnv ?? {});
    expect(run.exitCode).toBe(1);
    expect(failureLine(run.stderr)).toBe(
      `Access denied: you lack ssm:StartSession on ${jump.target}; attach the stack's engineer policy ${stack.outputs.engineer_policy_arn} to your role or user.`,
    );
    expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  }, 30_000);
});
