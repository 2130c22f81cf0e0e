/**
 * The README's quick path, exactly as a newcomer types it in the clone: `eval "$(npx dbtunnel sandbox up
 * --seed)"`, then the one connect command it printed, then `eval "$(npx dbtunnel sandbox down)"`, each in
 * a real shell.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runCli } from "../test-support/cli/fixtures.ts";

const root = resolve(import.meta.dir, "..");
const home = mkdtempSync(join(tmpdir(), "dbtunnel-seed-home-"));
const baseEnv = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? home,
  DBTUNNEL_HOME: home,
  NO_COLOR: "1",
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
};

afterAll(async () => {
  await runCli(["sandbox", "down"], { DBTUNNEL_HOME: home });
  rmSync(home, { recursive: true, force: true });
});

async function shell(script: string, stdin?: string) {
  const child = Bun.spawn(["sh", "-c", script], {
    cwd: root,
    env: baseEnv,
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, code };
}

describe("dbtunnel sandbox up --seed", () => {
  test("a ready stack in seconds, the printed connect command works as written, down unsets the variables", async () => {
    const started = performance.now();
    const up = await shell('eval "$(npx dbtunnel sandbox up --seed)" && env | grep -c "^AWS_ENDPOINT_URL="');
    expect(up.code).toBe(0);
    expect(up.stdout.trim()).toBe("1");
    const printed = up.stderr
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line.startsWith("npx dbtunnel connect"));
    expect(printed).toEqual([
      `npx dbtunnel connect --outputs ${join(home, "sandbox", "stacks", "sandbox-demo.outputs.json")}`,
    ]);
    const seconds = (performance.now() - started) / 1000;
    console.log(`sandbox up --seed: ${seconds.toFixed(1)} s`);

    // The printed command, as printed (psql reads its SQL from stdin here instead of a person).
    const connect = await shell(
      `eval "$(npx dbtunnel sandbox up --seed 2>/dev/null)" && ${printed[0]}`,
      "select current_user, (select ssl from pg_stat_ssl where pid = pg_backend_pid());\n",
    );
    expect(connect.stderr).not.toContain("X-Amz-Signature");
    expect(connect.code).toBe(0);
    expect(connect.stdout).toMatch(/app_engineer\s*\|\s*t/);

    const down = await shell(
      'eval "$(npx dbtunnel sandbox up 2>/dev/null)" && eval "$(npx dbtunnel sandbox down)" && { env | grep -cE "^(AWS_ENDPOINT_URL|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_REGION|DBTUNNEL_CA_BUNDLE)=" || true; }',
    );
    expect(down.code).toBe(0);
    expect(down.stdout.trim()).toBe("0");
    expect(existsSync(join(home, "sandbox", "stacks"))).toBe(false);
  }, 120_000);

  test("--stack without --seed is a usage error", async () => {
    const run = await runCli(["sandbox", "up", "--stack", "x"], { DBTUNNEL_HOME: home });
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim()).toBe(
      "dbtunnel: --stack and --user go with 'up --seed' (see 'dbtunnel sandbox --help')",
    );
  });

  test("a stack name that is no valid name is refused before anything is created", async () => {
    const run = await runCli(
      ["sandbox", "up", "--seed", "--stack", "Bad_Name"],
      { DBTUNNEL_HOME: home },
      {
        timeoutMs: 60_000,
      },
    );
    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim().split("\n").at(-1)).toContain("stack name 'Bad_Name' is not valid");
  }, 60_000);
});
