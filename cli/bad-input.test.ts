/**
 * Every kind of wrong input the CLI can be given, through the real CLI as a subprocess: one short line
 * naming what is wrong and the fix, a non-zero exit, no stack trace, nothing left behind, and never
 * more than one capped line however large the input (an outputs file with 50 000 stacks).
 */
import { afterAll, describe, expect, test } from "bun:test";
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../test-support/cli/fixtures.ts";
import { failureLine } from "../test-support/cli/helpers.ts";
import { MAX_ERROR_LINE } from "./ui.ts";

const dir = mkdtempSync(join(tmpdir(), "dbtunnel-bad-input-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Nothing listens on port 9: a command that wrongly went on to AWS would fail differently and slowly.
const env = {
  PATH: process.env.PATH,
  HOME: dir,
  AWS_ENDPOINT_URL: "http://127.0.0.1:9",
  AWS_REGION: "eu-west-1",
  AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE00",
  AWS_SECRET_ACCESS_KEY: "secret-that-must-never-be-printed",
};

const stack = {
  stack_name: "dev",
  region: "eu-west-1",
  jump_host_kind: "ec2",
  jump_host_instance_id: "i-0123456789abcdef0",
  ecs_cluster: "",
  ecs_service: "",
  db_engine: "postgres",
  db_identifier: "dev-db",
  db_endpoint: "dev-db.abcdefghijkl.eu-west-1.rds.amazonaws.com",
  db_port: 5432,
  db_resource_id: "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
  db_name: "app",
  db_iam_users: ["app_ro"],
  db_master_username: "dbadmin",
  db_master_secret_arn: "",
  engineer_policy_arn: "arn:aws:iam::123456789012:policy/dev-engineer",
  session_document_name: "dev-db-port-forwarding",
};

async function failing(args: string[], exitCode = 1, extraEnv: Record<string, string> = {}) {
  const run = await runCli(args, { ...env, ...extraEnv });
  expect(run.exitCode).toBe(exitCode);
  expect(run.stderr).not.toContain(env.AWS_SECRET_ACCESS_KEY);
  expect(run.stdout).toBe("");
  return failureLine(run.stderr);
}

describe("outputs files", () => {
  test("a directory where the file belongs", async () => {
    const folder = join(dir, "outputs-dir");
    mkdirSync(folder);
    expect(await failing(["connect", "-o", folder])).toBe(
      `Outputs file ${folder} is a directory: pass the JSON file 'cdktf output --outputs-file <file>' wrote, not its folder.`,
    );
  });

  test("an oversized file is refused without being read", async () => {
    const big = join(dir, "huge.json");
    const fd = openSync(big, "w");
    ftruncateSync(fd, 64 * 1024 * 1024);
    closeSync(fd);
    const line = await failing(["token", "-o", big]);
    expect(line).toStartWith(
      `Outputs file ${big} is 64.0 MiB, far larger than a cdktf outputs file (limit 4 MiB)`,
    );
  });

  test("malformed JSON and a JSON that is no outputs file", async () => {
    const broken = join(dir, "broken.json");
    writeFileSync(broken, '{"dev": {"db_endpoint": ');
    expect(await failing(["connect", "-o", broken])).toContain("is not valid JSON: regenerate it with");
    const list = join(dir, "list.json");
    writeFileSync(list, "[1, 2, 3]");
    expect(await failing(["connect", "-o", list])).toContain("is not a cdktf outputs file");
  });

  test("50 000 stacks: one capped line, not 400 KB", async () => {
    const many = join(dir, "many.json");
    const file: Record<string, unknown> = {};
    for (let i = 0; i < 50_000; i++) file[`stack-${i}`] = { db_endpoint: "x" };
    writeFileSync(many, JSON.stringify(file));
    const run = await runCli(["connect", "-o", many], env);
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr.length).toBeLessThan(2 * MAX_ERROR_LINE);
    const line = failureLine(run.stderr);
    expect(line).toStartWith(`Found 50000 stacks in ${many}`);
    expect(line).toMatch(/… \(\d+ more characters\)$/);
  });

  test("a crafted db_endpoint with a newline is refused before anything is written", async () => {
    const crafted = join(dir, "crafted.json");
    writeFileSync(
      crafted,
      JSON.stringify({ dev: { ...stack, db_endpoint: "dev-db.example.com\n203.0.113.66 github.com" } }),
    );
    const hosts = join(dir, "hosts");
    writeFileSync(hosts, "127.0.0.1 localhost\n");
    const line = await failing(["connect", "-o", crafted, "--hosts-file"], 1, { DBTUNNEL_HOSTS_FILE: hosts });
    expect(line).toContain("Output 'db_endpoint' of stack 'dev'");
    expect(line).toContain("whitespace or a control character");
    expect(Bun.file(hosts).size).toBe("127.0.0.1 localhost\n".length);
  });
});

describe("arguments", () => {
  test("a newline in an option value is a usage error naming the option", async () => {
    expect(await failing(["connect", "--stack", "dev\nprod"], 2)).toBe(
      "--stack contains a newline or control character: pass it on one line (see 'dbtunnel connect --help')",
    );
    expect(await failing(["token", "--user", "app\r"], 2)).toStartWith("--user contains a newline");
  });

  test("--region that does not match the stack in the outputs file", async () => {
    const outputs = join(dir, "outputs.json");
    writeFileSync(outputs, JSON.stringify({ dev: stack }));
    expect(await failing(["connect", "-o", outputs, "--region", "us-east-1"])).toBe(
      `--region us-east-1 does not match stack 'dev', which is in eu-west-1 (outputs file ${outputs}): drop --region, or pass the outputs file of the stack in us-east-1.`,
    );
  });

  test("--document must be a document name", async () => {
    const outputs = join(dir, "outputs-doc.json");
    writeFileSync(outputs, JSON.stringify({ dev: stack }));
    expect(await failing(["connect", "-o", outputs, "--document", "../../etc/passwd"], 2)).toStartWith(
      "--document must be an SSM document name",
    );
  });
});

describe("DBTUNNEL_HOME", () => {
  test("relative, a file, under a file: one line each, and nothing is created", async () => {
    const file = join(dir, "not-a-dir");
    writeFileSync(file, "x");
    const cases: [string, string][] = [
      ["relative/state", "is not an absolute path"],
      [file, "is not a directory"],
      [join(file, "state"), `lies under ${file}, which is not a directory`],
    ];
    for (const [home, problem] of cases) {
      const line = await failing(["sandbox", "up"], 1, { DBTUNNEL_HOME: home });
      expect(line).toBe(
        `DBTUNNEL_HOME=${home} ${problem}: set it to a directory you can write (an absolute path), or unset it to use ~/.local/state/dbtunnel.`,
      );
    }
    expect(existsSync(join(process.cwd(), "relative"))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.startsWith("relative"))).toEqual([]);
  }, 30_000);
});
