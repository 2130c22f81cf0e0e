/**
 * The standalone executable as an engineer gets it: the linux-x64 build (scripts/build.ts), copied alone
 * into an empty directory, run with nothing but HOME, the AWS variables and a PATH holding only psql — no
 * Bun, Node, npm, clone, AWS CLI or session-manager-plugin — connects to the sandbox through Session
 * Manager and runs psql with verify-full.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gitCommit } from "../cli/version.ts";
import {
  type FixtureSandbox,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { CLIENT_VERSION } from "../tunnel/version.ts";
import { buildExecutable } from "./build.ts";

const PSQL = "/usr/lib/postgresql/15/bin/psql";
const work = mkdtempSync(join(tmpdir(), "dbtunnel-standalone-"));
const appDir = join(work, "app"); // holds the executable and nothing else
const pathDir = join(work, "path"); // the whole PATH: psql only
const home = join(work, "home");
let executable: string;
let sandbox: FixtureSandbox;
let stack: SeededStack;

beforeAll(async () => {
  for (const dir of [appDir, pathDir, home]) mkdirSync(dir);
  symlinkSync(PSQL, join(pathDir, "psql"));
  const built = await buildExecutable("linux-x64", join(work, "dist"));
  executable = join(appDir, "dbtunnel");
  copyFileSync(built, executable);
  rmSync(join(work, "dist"), { recursive: true, force: true });
  sandbox = await startFixtureSandbox();
  stack = await seedStack(sandbox, { dir: work });
}, 120_000);

afterAll(async () => {
  await stack?.cleanup();
  await sandbox?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** HOME, the AWS_* variables of the sandbox, PATH = psql only. Nothing else. */
function engineerEnv(): Record<string, string> {
  const env: Record<string, string> = { HOME: home, PATH: pathDir };
  for (const [key, value] of Object.entries(sandbox.env)) if (key.startsWith("AWS_")) env[key] = value;
  return env;
}

async function run(argv0: string, args: string[], env: Record<string, string>) {
  const child = Bun.spawn([executable, ...args], { argv0, cwd: appDir, env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { stdout, stderr, code };
}

describe("the linux-x64 standalone executable", () => {
  test("alone in an empty directory with psql as the only tool: connect runs psql -c 'select 1' with verify-full", async () => {
    expect(readdirSync(appDir)).toEqual(["dbtunnel"]);
    const result = await run(
      executable,
      [
        "connect",
        "--outputs",
        stack.outputsFile,
        "--ca-bundle",
        sandbox.caBundlePath,
        "--exec",
        "--",
        "psql",
        "-tA",
        "-c",
        "select 1",
        "-c",
        "select ssl, current_setting('ssl') from pg_stat_ssl where pid = pg_backend_pid()",
        // The mode libpq was given (the server cannot see it): verify-full.
        "-c",
        "\\getenv mode PGSSLMODE",
        "-c",
        "\\echo :mode",
      ],
      engineerEnv(),
    );
    expect(result.stderr).not.toContain("X-Amz-Signature");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toBe("1");
    expect(lines[1]).toBe("t|on");
    expect(lines[2]).toBe("verify-full");
    expect(readdirSync(appDir)).toEqual(["dbtunnel"]);
  }, 60_000);

  test("--version names the version, the commit it was built from and the Session Manager client version", async () => {
    const result = await run(executable, ["--version"], { HOME: home, PATH: pathDir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `(commit ${gitCommit(resolve(import.meta.dir, ".."))}, standalone linux-x64)`,
    );
    expect(result.stdout).toContain(`Session Manager client ${CLIENT_VERSION}`);
  }, 30_000);

  test("the session-manager-plugin drop-in: under that name, and as a subcommand", async () => {
    const byName = await run("session-manager-plugin", ["--version"], { HOME: home, PATH: pathDir });
    expect(byName).toMatchObject({ code: 0, stdout: `${CLIENT_VERSION}\n` });
    const bySubcommand = await run(executable, ["session-manager-plugin", "--version"], { HOME: home });
    expect(bySubcommand).toMatchObject({ code: 0, stdout: `${CLIENT_VERSION}\n` });
    const shell = await run("session-manager-plugin", ["{}", "us-east-1", "StartSession"], { HOME: home });
    expect(shell.code).not.toBe(0);
  }, 60_000);

  test("every command is in the executable; the demo, which needs the clone, says so in one line", async () => {
    for (const command of ["connect", "token", "doctor", "audit", "sandbox", "proxy", "up"]) {
      const help = await run(executable, [command, "--help"], { HOME: home });
      expect(help.code).toBe(0);
      expect(help.stdout).toStartWith(`Usage: dbtunnel ${command}`);
    }
    const demo = await run(executable, ["demo"], { HOME: home });
    expect(demo.code).toBe(1);
    expect(demo.stderr.trim().split("\n")).toHaveLength(1);
    expect(demo.stderr).toContain("runs from a clone of the repository");
  }, 60_000);

  test("sandbox up starts its daemon from the executable itself; status and down follow", async () => {
    // The sandbox still needs python3 + moto and the PostgreSQL server on the machine: the normal PATH.
    const env = { HOME: home, PATH: process.env.PATH ?? "/usr/bin:/bin", DBTUNNEL_HOME: join(work, "state") };
    try {
      const up = await run(executable, ["sandbox", "up"], env);
      expect(up.code).toBe(0);
      expect(up.stdout).toContain("export AWS_ENDPOINT_URL=");
      const status = await run(executable, ["sandbox", "status"], env);
      expect(status.code).toBe(0);
    } finally {
      const down = await run(executable, ["sandbox", "down"], env);
      expect(down.code).toBe(0);
    }
  }, 60_000);
});
