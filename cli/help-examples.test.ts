/**
 * Every example line of every `--help` runs as written: in a real shell, `dbtunnel` on PATH (the clone's
 * bin/, as `npm link` would put it), against a sandbox in eu-west-1 holding stack `dev` with IAM user
 * `app_ro`, in a directory with its outputs.json. Lines that cannot run here say why in EXAMPLES; a new
 * example line fails the first test until it is classified.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  type FixtureSandbox,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { COMMANDS, MAIN_HELP } from "./main.ts";

/** How each example runs: "run" (must exit 0), "until-ready" (long-running: must print its answer), or why not. */
const EXAMPLES: Record<string, "run" | "until-ready" | { readonly skip: string }> = {
  "dbtunnel connect --outputs outputs.json": "run",
  "dbtunnel connect --stack dev --user app_ro": "run",
  "dbtunnel doctor --outputs outputs.json": "run",
  'eval "$(dbtunnel sandbox up)"': "run",
  "dbtunnel connect --stack dev --region eu-west-1 --user app_ro": "run",
  "dbtunnel connect -o outputs.json --exec -- pg_dump --schema-only": "run",
  "dbtunnel connect -o mysql-outputs.json --exec -- mariadb -e 'select current_user()'": {
    skip: "needs a MySQL stack (the MySQL connect tests cover it)",
  },
  "dbtunnel connect -o outputs.json --listen --local-port 15432": "until-ready",
  "dbtunnel connect -o outputs.json --sessions 4 --exec -- pg_dump --jobs 4 -Fd -f dump": "run",
  "eval \"$(dbtunnel connect -o outputs.json --print-env &)\" && psql -c 'select 1'": "run",
  "sudo dbtunnel connect -o outputs.json --hosts-file": {
    skip: "edits /etc/hosts as root (cli/hosts-file-mode.test.ts runs it on a private hosts file)",
  },
  "dbtunnel token --outputs outputs.json --user app_ro": "run",
  'PGPASSWORD="$(dbtunnel token -o outputs.json)" psql "$(dbtunnel connect -o outputs.json --listen &)"':
    "run",
  "dbtunnel doctor --stack dev --region eu-west-1 --json": "run",
  "dbtunnel audit cdktf.out/stacks/dev/cdk.tf.json": {
    skip: "needs a synthesized stack (npm run synth); cli/commands.test.ts audits one",
  },
  "dbtunnel audit hand-edited.tf.json --json | jq '.violations[].ruleId'": {
    skip: "a hand-edited file of the reader's and jq; cli/commands.test.ts covers --json",
  },
  'eval "$(dbtunnel sandbox up --seed)"': "run",
  "dbtunnel sandbox status": "run",
  'eval "$(dbtunnel sandbox down)"': "run",
  "npm run demo": { skip: "deploys with Terraform for 4-5 minutes (the e2e suite runs the same flow)" },
  "npm run demo -- --variant ecs-mysql": {
    skip: "deploys the ECS + MySQL stack with Terraform for 4-5 minutes (the e2e suite's ecs-mysql variant runs the same flow)",
  },
  "dbtunnel demo --keep": {
    skip: "deploys with Terraform for 4-5 minutes (the e2e suite runs the same flow)",
  },
  "dbtunnel proxy --outputs outputs.json --local-port 15432": "until-ready",
  "dbtunnel proxy --show-secret": { skip: "prints this machine's proxy secret (proxy tests cover it)" },
  "dbtunnel proxy -o outputs.json -p 15432 --local-tls": {
    skip: "long-running proxy (proxy tests cover --local-tls)",
  },
  "dbtunnel proxy -o outputs.json --json": { skip: "long-running proxy (proxy tests cover --json)" },
  "dbtunnel up": { skip: "needs a profile file of the reader's (the up tests cover profiles)" },
  "dbtunnel up team-databases.json --json": {
    skip: "needs a profile file of the reader's (the up tests cover profiles)",
  },
};

/** The example lines of a help text, without trailing `# comments`. */
function examplesOf(help: string): string[] {
  const at = help.indexOf("\nExamples:\n");
  if (at === -1) return [];
  return help
    .slice(at + "\nExamples:\n".length)
    .split("\n")
    .filter((line) => line.startsWith("  "))
    .map((line) => line.trim().replace(/\s{2,}#.*$/, ""));
}

async function allExamples(): Promise<string[]> {
  const lines = examplesOf(MAIN_HELP);
  for (const entry of Object.values(COMMANDS)) lines.push(...examplesOf((await entry.load()).help));
  return [...new Set(lines)];
}

const root = resolve(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "dbtunnel-examples-"));
const bin = join(work, "bin");
const home = join(work, "home");
let sandbox: FixtureSandbox;
let stack: SeededStack;

beforeAll(async () => {
  mkdirSync(bin);
  mkdirSync(home);
  symlinkSync(join(root, "bin", "dbtunnel"), join(bin, "dbtunnel"));
  sandbox = await startFixtureSandbox({ region: "eu-west-1" });
  stack = await seedStack(sandbox, { stackName: "dev", dbUser: "app_ro", dir: work });
  copyFileSync(stack.outputsFile, join(work, "outputs.json"));
}, 90_000);

afterAll(async () => {
  await stack?.cleanup();
  await sandbox?.stop();
  rmSync(work, { recursive: true, force: true });
});

function shellEnv(): Record<string, string> {
  return {
    ...sandbox.env,
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: home,
    DBTUNNEL_HOME: join(home, "state"),
    NO_COLOR: "1",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  };
}

/** Background tunnels an example leaves (`... &`) say "kill <pid>" on stderr: stop exactly those. */
function killLeftBehind(stderr: string): void {
  for (const match of stderr.matchAll(/kill (\d+) closes it/g)) {
    try {
      process.kill(Number(match[1]), "SIGTERM");
    } catch {}
  }
}

describe("--help examples", () => {
  test("every example line is classified (run here, or the reason it cannot)", async () => {
    const unknown = (await allExamples()).filter((line) => !(line in EXAMPLES));
    expect(unknown).toEqual([]);
  });

  test("every runnable example exits 0 as written", async () => {
    const failures: string[] = [];
    for (const line of await allExamples()) {
      if (EXAMPLES[line] !== "run") continue;
      const child = Bun.spawn(["sh", "-c", line], {
        cwd: work,
        env: shellEnv(),
        // Interactive psql gets its SQL from stdin, as a person would type it.
        stdin: new TextEncoder().encode("select 1;\n"),
        stdout: "pipe",
        // A file: a tunnel an example leaves in the background (\`&\`) would hold a pipe open.
        stderr: Bun.file(join(work, "stderr.txt")),
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
      const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
      clearTimeout(timer);
      const stderr = await Bun.file(join(work, "stderr.txt")).text();
      killLeftBehind(stderr);
      if (code !== 0)
        failures.push(
          `${line}\n  exit ${code}: ${(stderr || stdout).trim().split("\n").slice(-2).join(" | ")}`,
        );
    }
    expect(failures).toEqual([]);
  }, 300_000);

  test("long-running examples start and print their answer (then Ctrl-C)", async () => {
    for (const line of await allExamples()) {
      if (EXAMPLES[line] !== "until-ready") continue;
      const child = Bun.spawn(["sh", "-c", `exec ${line}`], {
        cwd: work,
        env: shellEnv(),
        stdout: "pipe",
        stderr: Bun.file(join(work, "stderr-ready.txt")),
      });
      const reader = child.stdout.getReader();
      const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
      let text = "";
      while (!/127\.0\.0\.1/.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      child.kill("SIGINT");
      const code = await child.exited;
      clearTimeout(timer);
      const stderr = code === 0 ? "" : await Bun.file(join(work, "stderr-ready.txt")).text();
      expect({ line, ready: /127\.0\.0\.1/.test(text), code, stderr }).toEqual({
        line,
        ready: true,
        code: 0,
        stderr: "",
      });
    }
  }, 180_000);
});
