/**
 * A `dbtunnel connect --listen` process frozen (SIGSTOP, like a laptop asleep) past Session Manager's idle
 * timeout: the service ends its session meanwhile; after SIGCONT the next connection through the same
 * local port works (tunnel/pool.ts replaces the session), and the terminal says what happened.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  type FixtureSandbox,
  runCli,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { startCli } from "../test-support/cli/helpers.ts";
import { until, waitFor } from "../test-support/wait.ts";

const IDLE_MS = 3000;
let sandbox: FixtureSandbox;
let stack: SeededStack;

beforeAll(async () => {
  sandbox = await startFixtureSandbox({ idleSessionTimeoutMs: IDLE_MS });
  stack = await seedStack(sandbox);
}, 60_000);

afterAll(async () => {
  await stack?.cleanup();
  await sandbox?.stop();
});

async function psql(connectionString: string): Promise<string> {
  const token = await runCli(["token", "-o", stack.outputsFile], sandbox.env);
  const child = Bun.spawn(["psql", connectionString, "-tAc", "select current_user"], {
    env: { PATH: process.env.PATH ?? "", PGPASSWORD: token.stdout.trim() },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return stdout.trim();
}

test("SIGSTOP past the idle timeout, then SIGCONT: the next connection through the same port works", async () => {
  const live = startCli(["connect", "-o", stack.outputsFile, "--listen"], sandbox.env);
  const connectionString = (await live.waitForStdout((out) => out.includes("\n"))).trim();
  expect(await psql(connectionString)).toBe("app_user");
  const [first] = sandbox.activeSessions();
  process.kill(live.pid, "SIGSTOP");
  try {
    // The service's idle timeout ends the session while the client cannot answer.
    await until(() => !sandbox.activeSessions().includes(first ?? ""), 4 * IDLE_MS);
  } finally {
    process.kill(live.pid, "SIGCONT");
  }
  await until(() => live.stderr().includes("ended"), 10_000);
  expect(await psql(connectionString)).toBe("app_user");
  live.kill("SIGINT");
  expect(await live.exited).toBe(0);
  expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
}, 60_000);
