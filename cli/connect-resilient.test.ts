/**
 * `dbtunnel connect --listen` with a local port that outlives its session (tunnel/pool.ts), end to end:
 * the real CLI as a subprocess, the sandbox's Session Manager emulator, real psql with verify-full TLS.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { SSMClient, TerminateSessionCommand } from "@aws-sdk/client-ssm";
import {
  adminClientConfig,
  type FixtureSandbox,
  runCli,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { expectNoSecrets, startCli } from "../test-support/cli/helpers.ts";
import { until, waitFor } from "../test-support/wait.ts";

let sandbox: FixtureSandbox;
let stack: SeededStack;

beforeAll(async () => {
  sandbox = await startFixtureSandbox();
  stack = await seedStack(sandbox);
}, 60_000);

afterAll(async () => {
  await stack?.cleanup();
  await sandbox?.stop();
});

/** Runs a command without blocking the event loop (the sandbox lives in this process); returns stdout. */
async function run(
  command: string[],
  env: Record<string, string>,
): Promise<{ stdout: string; code: number }> {
  const child = Bun.spawn(command, { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return { stdout, code };
}

async function psql(connectionString: string): Promise<{ stdout: string; code: number }> {
  const token = await runCli(["token", "-o", stack.outputsFile], sandbox.env);
  return run(["psql", connectionString, "-tAc", "select current_user"], {
    PATH: process.env.PATH ?? "",
    PGPASSWORD: token.stdout.trim(),
  });
}

test("--listen: after TerminateSession from outside, psql through the same local port works again; the TTY says why", async () => {
  const live = startCli(["connect", "-o", stack.outputsFile, "--listen"], sandbox.env);
  const connectionString = (await live.waitForStdout((out) => out.includes("\n"))).trim();
  expect((await psql(connectionString)).stdout.trim()).toBe("app_user");
  const [first] = sandbox.activeSessions();
  const ssm = new SSMClient(adminClientConfig(sandbox));
  try {
    await ssm.send(new TerminateSessionCommand({ SessionId: first }));
  } finally {
    ssm.destroy();
  }
  await until(() => live.stderr().includes(`Session ${first} ended`), 10_000);
  expect(live.stderr()).toContain("The local port stays open");
  await until(() => sandbox.activeSessions().some((id) => id !== first), 10_000);
  const again = await psql(connectionString);
  expect(again.stdout.trim()).toBe("app_user");
  live.kill("SIGINT");
  expect(await live.exited).toBe(0);
  expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  expectNoSecrets(live.stdout() + live.stderr(), sandbox.env);
}, 60_000);

test("--listen --sessions 2: two sessions behind one port, and --sessions without a mode that keeps a port is refused", async () => {
  const live = startCli(["connect", "-o", stack.outputsFile, "--listen", "--sessions", "2"], sandbox.env);
  const connectionString = (await live.waitForStdout((out) => out.includes("\n"))).trim();
  await until(() => sandbox.activeSessions().length === 2, 10_000);
  const results = await Promise.all([psql(connectionString), psql(connectionString)]);
  expect(results.map((r) => r.stdout.trim())).toEqual(["app_user", "app_user"]);
  live.kill("SIGINT");
  expect(await live.exited).toBe(0);
  expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  const refused = await runCli(["connect", "-o", stack.outputsFile, "--sessions", "2"], sandbox.env);
  expect(refused.exitCode).not.toBe(0);
  expect(refused.stderr).toContain("--sessions needs --exec, --listen or --print-env");
  const bad = await runCli(["connect", "-o", stack.outputsFile, "--listen", "--sessions", "99"], sandbox.env);
  expect(bad.stderr).toContain("--sessions must be a number from 1 to 32");
}, 60_000);

test("--listen --sessions 2: pgbench keeps going with 0 failed transactions while the service closes the WebSocket (1000) every 3 s", async () => {
  const setDefaultFaults = (plan: Record<string, unknown>) =>
    fetch(`${sandbox.env.AWS_ENDPOINT_URL}/_dbtunnel/faults`, {
      method: "POST",
      body: JSON.stringify({ plan }),
    });
  await setDefaultFaults({ closeWebSocketEveryMs: 3000 });
  const live = startCli(["connect", "-o", stack.outputsFile, "--listen", "--sessions", "2"], sandbox.env);
  try {
    const connectionString = (await live.waitForStdout((out) => out.includes("\n"))).trim();
    expect((await psql(connectionString)).stdout.trim()).toBe("app_user"); // the first dial creates the database
    // The IAM user may create pgbench's tables in its own database.
    await sandbox.admin().unsafe(`alter database ${stack.dbName} owner to ${stack.dbUser}`);
    const token = (await runCli(["token", "-o", stack.outputsFile], sandbox.env)).stdout.trim();
    const env = { PATH: process.env.PATH ?? "", PGPASSWORD: token };
    const init = await run(["pgbench", "-i", "-s", "1", "-q", connectionString], env);
    expect(init.code).toBe(0);
    const bench = await run(["pgbench", "-S", "-c", "8", "-j", "2", "-T", "30", "-n", connectionString], env);
    expect(bench.code).toBe(0);
    expect(bench.stdout).toMatch(/number of failed transactions: 0 /);
    expect(live.stderr()).not.toContain("ended");
    live.kill("SIGINT");
    expect(await live.exited).toBe(0);
  } finally {
    await setDefaultFaults({});
  }
}, 90_000);
