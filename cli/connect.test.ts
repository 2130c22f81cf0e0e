/**
 * `dbtunnel connect` modes end to end: the real CLI as a subprocess, the native tunnel through the sandbox's
 * Session Manager emulator, real psql with verify-full TLS and an IAM token checked by the sandbox.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeInstancesCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  adminClientConfig,
  cleanEnv,
  type FixtureSandbox,
  runCli,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { BIN_DIR, expectNoSecrets, startCli } from "../test-support/cli/helpers.ts";
import { waitFor } from "../test-support/wait.ts";

let sandbox: FixtureSandbox;
let stack: SeededStack;
let stopped: SeededStack;

beforeAll(async () => {
  sandbox = await startFixtureSandbox();
  [stack, stopped] = await Promise.all([
    seedStack(sandbox),
    seedStack(sandbox, { stopped: true, dbUser: "stopped_user" }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([stack?.cleanup(), stopped?.cleanup()]);
  await sandbox?.stop();
});

/** Runs a command without blocking the event loop (the sandbox lives in this process); returns stdout. */
async function run(command: string[], env: Record<string, string>): Promise<string> {
  const child = Bun.spawn(command, { env, stdout: "pipe", stderr: "inherit" });
  const [stdout] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  return stdout;
}

const QUERY = "select current_user || '|' || ssl::text from pg_stat_ssl where pid = pg_backend_pid()";

describe("dbtunnel connect", () => {
  test("--exec runs psql through the tunnel with verify-full TLS and an IAM token, and leaves no session", async () => {
    const run = await runCli(
      ["connect", "--outputs", stack.outputsFile, "--exec", "--", "psql", "-tAc", QUERY],
      sandbox.env,
    );
    expect(run.stderr).toContain("✓ opening session");
    expect(run.stdout.trim()).toBe("app_user|true");
    expect(run.exitCode).toBe(0);
    expectNoSecrets(run.stdout + run.stderr, sandbox.env);
    expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  }, 30_000);

  test("--exec sets the libpq variables and exits with the command's exit code", async () => {
    const script =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a JS template
      'echo "$PGHOST $PGHOSTADDR $PGUSER $PGDATABASE $PGSSLMODE $PGSSLROOTCERT ${#PGPASSWORD}"; exit 3';
    const run = await runCli(
      ["connect", "-o", stack.outputsFile, "--exec", "--", "sh", "-c", script],
      sandbox.env,
    );
    expect(run.exitCode).toBe(3);
    const [host, hostaddr, user, db, mode, ca, tokenLength] = run.stdout.trim().split(" ");
    expect({ host, hostaddr, user, db, mode, ca }).toEqual({
      host: stack.endpoint,
      hostaddr: "127.0.0.1",
      user: "app_user",
      db: "appdb",
      mode: "verify-full",
      ca: sandbox.caBundlePath,
    });
    expect(Number(tokenLength)).toBeGreaterThan(500);
  }, 30_000);

  test("bin/dbtunnel --exec: the command gets the user's environment, not the wrapper's FTL setting", async () => {
    const wrapper = join(BIN_DIR, "dbtunnel");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a JS template
    const script = 'echo "${BUN_JSC_useFTLJIT-unset} ${DBTUNNEL_FTL_SET_BY_WRAPPER-unset}"';
    const inherited = (ftl: string | undefined) =>
      run(
        [wrapper, "connect", "-o", stack.outputsFile, "--exec", "--", "sh", "-c", script],
        cleanEnv({ ...sandbox.env, BUN_JSC_useFTLJIT: ftl }),
      );
    // The wrapper turns FTL off for dbtunnel's own process only.
    expect((await inherited(undefined)).trim()).toBe("unset unset");
    // A value the user set is theirs, 0 included.
    expect((await inherited("1")).trim()).toBe("1 unset");
    expect((await inherited("0")).trim()).toBe("0 unset");
  }, 60_000);

  test("interactive mode runs psql itself (here fed from a pipe)", async () => {
    const run = await runCli(["connect", "-o", stack.outputsFile], sandbox.env, {
      stdin: "\\pset tuples_only on\nselect 40 + 2;\n",
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain("42");
  }, 30_000);

  test("on a terminal psql owns Ctrl-C: it cancels the input line, dbtunnel and the session stay up", async () => {
    const steps = [
      { expect: "=>", timeout: 30 },
      { send: "select 'first' || 'query';\r" },
      { expect: "firstquery" },
      { expect: "=>" },
      // Wait for psql to echo the half-typed line, so Ctrl-C lands while it is being edited.
      { send: "select 'never" },
      { expect: "'never" },
      { ctrl_c: true },
      { expect: "=>" },
      { send: "select 'after' || 'ctrlc';\r" },
      { expect: "afterctrlc" },
      { send: "\\q\r" },
    ];
    const child = Bun.spawn(
      [
        "python3",
        join(import.meta.dir, "../test-support/cli/pty-driver.py"),
        "--",
        process.execPath,
        join(import.meta.dir, "main.ts"),
        "connect",
        "-o",
        stack.outputsFile,
      ],
      {
        env: { ...cleanEnv(sandbox.env), TERM: "dumb", PAGER: "cat" },
        stdin: new TextEncoder().encode(JSON.stringify(steps)),
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const [transcript, , code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    if (code !== 0) console.error(transcript);
    expect(transcript).toContain("afterctrlc");
    expect(code).toBe(0);
    expect(transcript).toContain("✓ opening session");
    expectNoSecrets(transcript, sandbox.env);
    expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  }, 90_000);

  test("several stacks on a terminal: asks which one", async () => {
    const file = join(stack.outputsFile, "..", "two-stacks.json");
    writeFileSync(
      file,
      JSON.stringify({ alpha: { ...stack.outputs, db_name: "postgres" }, beta: stack.outputs }),
    );
    const steps = [
      { expect: "Which one? [1-2]", timeout: 30 },
      { send: "2\r" },
      { expect: "=>", timeout: 30 },
      { send: "select 'db=' || current_database();\r" },
      { expect: "db=appdb" },
      { send: "\\q\r" },
    ];
    const child = Bun.spawn(
      [
        "python3",
        join(import.meta.dir, "../test-support/cli/pty-driver.py"),
        "--",
        process.execPath,
        join(import.meta.dir, "main.ts"),
        "connect",
        "-o",
        file,
      ],
      {
        env: { ...cleanEnv(sandbox.env), TERM: "dumb", PAGER: "cat" },
        stdin: new TextEncoder().encode(JSON.stringify(steps)),
        stdout: "pipe",
      },
    );
    const [transcript, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    expect(transcript).toContain("1) alpha");
    expect(transcript).toContain("2) beta");
    expect(transcript).toContain("db=appdb");
    expect(code).toBe(0);
  }, 60_000);

  test("real-account CA path: the bundle is downloaded once into the cache, then reused", async () => {
    let hits = 0;
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch() {
        hits++;
        return new Response(Bun.file(sandbox.caBundlePath));
      },
    });
    const cache = mkdtempSync(join(tmpdir(), "dbtunnel-cache-"));
    try {
      const env = {
        ...sandbox.env,
        DBTUNNEL_CA_BUNDLE: undefined,
        DBTUNNEL_CA_BUNDLE_URL: `http://127.0.0.1:${server.port}/global/global-bundle.pem`,
        DBTUNNEL_CACHE_DIR: cache,
      };
      for (let i = 0; i < 2; i++) {
        const run = await runCli(
          [
            "connect",
            "-o",
            stack.outputsFile,
            "--exec",
            "--",
            "sh",
            "-c",
            'echo "$PGSSLROOTCERT"; psql -tAc "select 1"',
          ],
          env,
        );
        expect(run.exitCode).toBe(0);
        expect(run.stdout).toStartWith(join(cache, "ca-bundle-"));
      }
      expect(hits).toBe(1);
    } finally {
      server.stop(true);
      rmSync(cache, { recursive: true, force: true });
    }
  }, 30_000);

  test("finds the stack by tags and starts a stopped jump host first", async () => {
    const run = await runCli(
      [
        "connect",
        "--stack",
        stopped.stackName,
        "--user",
        "stopped_user",
        "--exec",
        "--",
        "psql",
        "-tAc",
        "select current_user",
      ],
      { ...sandbox.env, DBTUNNEL_POLL_MS: "200" },
    );
    expect(run.stderr).toContain(`✓ starting jump host ${stopped.instanceId} (started)`);
    expect(run.stderr).toContain("✓ waiting for Session Manager (online)");
    expect(run.stdout.trim()).toBe("stopped_user");
    expect(run.exitCode).toBe(0);
    const ec2 = new EC2Client(adminClientConfig(sandbox));
    const state = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [stopped.instanceId] }));
    ec2.destroy();
    expect(state.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe("running");
  }, 30_000);

  test("found by tags without --user: the database's dbtunnel:iam-users tag names the login", async () => {
    const run = await runCli(
      ["connect", "--stack", stack.stackName, "--exec", "--", "psql", "-tAc", "select current_user"],
      sandbox.env,
    );
    expect(run.stdout.trim()).toBe(stack.dbUser);
    expect(run.exitCode).toBe(0);
  }, 30_000);

  test("Ctrl-C while waiting for the jump host cancels at once (exit 130), before any session", async () => {
    const sleepy = await seedStack(sandbox, { stopped: true, dbUser: "sleepy_user" });
    try {
      const live = startCli(["connect", "-o", sleepy.outputsFile, "--exec", "--", "true"], {
        ...sandbox.env,
        DBTUNNEL_POLL_MS: "60000",
      });
      await live.waitForStderr((err) => err.includes("starting jump host"));
      await Bun.sleep(300);
      const sent = performance.now();
      live.kill("SIGINT");
      expect(await live.exited).toBe(130);
      expect(performance.now() - sent).toBeLessThan(5_000);
      expect(live.stderr()).toContain("Cancelled.");
      expect(sandbox.activeSessions()).toEqual([]);
    } finally {
      await sleepy.cleanup();
    }
  }, 30_000);

  test("--listen keeps the tunnel open for other tools, prints the connection string without the token, Ctrl-C closes it", async () => {
    const live = startCli(["connect", "-o", stack.outputsFile, "--listen"], sandbox.env);
    const stdout = await live.waitForStdout((out) => out.includes("\n"));
    const connectionString = stdout.trim();
    expect(connectionString).toMatch(
      new RegExp(
        `^host=${stack.endpoint} hostaddr=127.0.0.1 port=\\d+ user=app_user dbname=appdb sslmode=verify-full sslrootcert=`,
      ),
    );
    const token = await runCli(["token", "-o", stack.outputsFile], sandbox.env);
    expect(token.exitCode).toBe(0);
    // Async spawn: the sandbox runs in this process, a blocking spawnSync would starve it.
    const psql = await run(["psql", connectionString, "-tAc", QUERY], {
      PATH: process.env.PATH ?? "",
      PGPASSWORD: token.stdout.trim(),
    });
    expect(psql.trim()).toBe("app_user|true");
    expect(sandbox.activeSessions().length).toBe(1);
    live.kill("SIGINT");
    expect(await live.exited).toBe(0);
    expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
    expectNoSecrets(live.stdout() + live.stderr(), sandbox.env);
  }, 30_000);

  test("--print-env prints export lines whose PGPASSWORD comes from 'dbtunnel token'", async () => {
    const live = startCli(["connect", "-o", stack.outputsFile, "--print-env"], sandbox.env);
    const lines = await live.waitForStdout((out) => out.includes("PGPASSWORD"));
    expect(lines).toContain(`export PGHOST=${stack.endpoint}\n`);
    expect(lines).toContain("export PGSSLMODE=verify-full\n");
    expectNoSecrets(lines, sandbox.env);
    const shell = await run(["sh", "-c", `${lines}\npsql -tAc "select current_user"`], {
      ...sandbox.env,
      PATH: `${BIN_DIR}:${process.env.PATH ?? ""}`,
      NO_COLOR: "1",
    });
    expect(shell.trim()).toBe("app_user");
    live.kill("SIGTERM");
    expect(await live.exited).toBe(0);
    expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  }, 30_000);

  test("scripts/connect.sh is the same connect (DBTUNNEL_OUTPUTS becomes --outputs)", async () => {
    const script = join(import.meta.dir, "..", "scripts", "connect.sh");
    const output = await run([script, "--exec", "--", "psql", "-tAc", "select current_user"], {
      ...cleanEnv(sandbox.env),
      DBTUNNEL_OUTPUTS: stack.outputsFile,
    });
    expect(output.trim()).toBe("app_user");
  }, 30_000);

  test("--json: only JSON event lines on stdout, the client's output goes to stderr", async () => {
    const run = await runCli(
      ["connect", "-o", stack.outputsFile, "--json", "--exec", "--", "psql", "-tAc", "select 'from-psql'"],
      sandbox.env,
    );
    expect(run.exitCode).toBe(0);
    const events = run.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.find((e) => e.type === "target")).toMatchObject({
      stack: stack.stackName,
      endpoint: stack.endpoint,
    });
    expect(events.some((e) => e.type === "step" && e.step === "open-session" && e.status === "done")).toBe(
      true,
    );
    expect(events.find((e) => e.type === "session")).toMatchObject({
      host: "127.0.0.1",
      sessionId: expect.any(String),
    });
    expect(events.some((e) => e.type === "tunnel" && e.event === "connection-opened")).toBe(true);
    expect(events.at(-1)).toEqual({ type: "exit", code: 0 });
    expect(run.stdout).not.toContain("from-psql");
    expect(run.stderr).toContain("from-psql");
    expectNoSecrets(run.stdout + run.stderr, sandbox.env);
  }, 30_000);
});
