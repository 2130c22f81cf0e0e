/**
 * Bad input and failures: the real CLI as a subprocess against the sandbox. Each must end with one line
 * saying what was wrong and what to do, a non-zero exit, no stack trace, no secret, and no session left.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeUnrelatedCa } from "../test-support/certificates.ts";
import {
  type FixtureSandbox,
  runCli,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { expectNoSecrets, failureLine } from "../test-support/cli/helpers.ts";
import { waitFor } from "../test-support/wait.ts";

let sandbox: FixtureSandbox;
let stack: SeededStack;
let dir: string;

beforeAll(async () => {
  sandbox = await startFixtureSandbox();
  stack = await seedStack(sandbox, { userWithoutRdsIam: "no_iam_user" });
  dir = mkdtempSync(join(tmpdir(), "dbtunnel-errors-"));
  chmodSync(dir, 0o755);
}, 60_000);

afterAll(async () => {
  await stack?.cleanup();
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const exec = ["--exec", "--", "psql", "-tAc", "select 1"];

/** Runs connect, checks the common failure contract, returns the one-line message. */
async function failing(
  args: string[],
  env: Record<string, string | undefined>,
  exitCode = 1,
  prefix?: string[],
) {
  const run = await runCli(["connect", ...args], env, prefix ? { prefix } : {});
  expect(run.exitCode).toBe(exitCode);
  expectNoSecrets(run.stdout + run.stderr, sandbox.env);
  expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  return failureLine(run.stderr);
}

describe("connect failures", () => {
  test("no credentials", async () => {
    const env = {
      ...sandbox.env,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
    };
    expect(await failing(["-o", stack.outputsFile, ...exec], env)).toStartWith(
      "No AWS credentials found: sign in",
    );
  }, 30_000);

  test("expired credentials", async () => {
    const env = { ...sandbox.env, AWS_SESSION_TOKEN: "stale-session-token-from-yesterday" };
    expect(await failing(["-o", stack.outputsFile, ...exec], env)).toBe(
      "Your AWS credentials have expired: sign in again (e.g. 'aws sso login') and retry.",
    );
  }, 30_000);

  test("AccessDenied on StartSession names ssm:StartSession and the engineer policy", async () => {
    const env = sandbox.restrictedEnv ?? {};
    expect(await failing(["-o", stack.outputsFile, ...exec], env)).toBe(
      `Access denied: you lack ssm:StartSession on ${stack.instanceId}; attach the stack's engineer policy ${stack.outputs.engineer_policy_arn} to your role or user.`,
    );
  }, 30_000);

  test("unknown stack in an outputs file, by tags, and a missing outputs file", async () => {
    expect(await failing(["-o", stack.outputsFile, "--stack", "nope", ...exec], sandbox.env)).toBe(
      `Stack 'nope' is not in ${stack.outputsFile} (it has: ${stack.stackName}): fix --stack.`,
    );
    expect(await failing(["--stack", "nope", ...exec], sandbox.env)).toStartWith(
      `No dbtunnel stack named 'nope' in ${sandbox.region} (found: `,
    );
    expect(await failing(["-o", join(dir, "missing.json"), ...exec], sandbox.env)).toStartWith(
      `Outputs file ${join(dir, "missing.json")} does not exist: write it with 'cdktf output --outputs-file`,
    );
  }, 30_000);

  test("several stacks without a terminal: one line listing them and the flag", async () => {
    const file = join(dir, "two.json");
    writeFileSync(file, JSON.stringify({ blue: stack.outputs, green: stack.outputs }));
    expect(await failing(["-o", file, ...exec], sandbox.env)).toBe(
      `Found 2 stacks in ${file} (blue, green): pick one with --stack <name>.`,
    );
  }, 30_000);

  test("a jump host that no longer exists", async () => {
    const file = join(dir, "gone.json");
    writeFileSync(
      file,
      JSON.stringify({ gone: { ...stack.outputs, jump_host_instance_id: "i-00000000000000000" } }),
    );
    expect(await failing(["-o", file, ...exec], sandbox.env)).toBe(
      "Jump host i-00000000000000000 is gone: redeploy the stack ('cdktf deploy') and refresh the outputs file.",
    );
  }, 30_000);

  test("the jump host cannot reach the database: named per connection, with the host and port", async () => {
    const file = join(dir, "unreachable.json");
    const endpoint = `nowhere.aaaaaaaaaa.${sandbox.region}.rds.amazonaws.com`;
    // Without the stack's pinned document (an older stack): the generic document lets the session start.
    writeFileSync(
      file,
      JSON.stringify({ x: { ...stack.outputs, db_endpoint: endpoint, session_document_name: "" } }),
    );
    const line = await failing(["-o", file, ...exec], sandbox.env, 2);
    expect(line).toStartWith(
      `The jump host could not reach ${endpoint}:5432: check that the database is available and its security group admits the jump host`,
    );
  }, 30_000);

  test("another endpoint than the pinned document's is refused by Session Manager, before any dial", async () => {
    const file = join(dir, "repointed.json");
    const endpoint = `elsewhere.aaaaaaaaaa.${sandbox.region}.rds.amazonaws.com`;
    writeFileSync(file, JSON.stringify({ x: { ...stack.outputs, db_endpoint: endpoint } }));
    const line = await failing(["-o", file, ...exec], sandbox.env, 1);
    expect(line).toStartWith("Session Manager rejected the session document or its parameters");
    expect(line).toContain(`Parameter "host" has value "${endpoint}" not matching`);
    expect(sandbox.activeSessions()).toEqual([]);
  }, 30_000);

  test("database auth failure: the user lacks rds_iam", async () => {
    const line = await failing(["-o", stack.outputsFile, "--user", "no_iam_user", ...exec], sandbox.env, 2);
    expect(line).toStartWith(
      "The database refused the IAM token for user 'no_iam_user': check the role has 'GRANT rds_iam TO no_iam_user'",
    );
    expect(line).toContain(
      `rds-db:connect on arn:aws:rds-db:${sandbox.region}:<account>:dbuser:${stack.resourceId}/no_iam_user`,
    );
  }, 30_000);

  test("TLS failure: a CA bundle that did not sign the server certificate", async () => {
    const cert = makeUnrelatedCa(dir, "other-ca");
    const line = await failing(["-o", stack.outputsFile, "--ca-bundle", cert, ...exec], sandbox.env, 2);
    expect(line).toBe(
      `TLS verification of ${stack.endpoint} failed with CA bundle ${cert}: pass the bundle that signed the database certificate with --ca-bundle (verification cannot be turned off).`,
    );
  }, 30_000);

  test("local port in use: refused before any session is opened", async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(
        await failing(["-o", stack.outputsFile, "--local-port", String(port), ...exec], sandbox.env),
      ).toBe(
        `Local port ${port} is already in use: pick another with --local-port, or omit --local-port to get a free one.`,
      );
    } finally {
      server.close();
    }
  }, 30_000);

  test("psql not installed", async () => {
    const env = { ...sandbox.env, PATH: dir };
    expect(await failing(["-o", stack.outputsFile], env)).toStartWith(
      "'psql' is not installed or not on PATH: install the PostgreSQL client",
    );
  }, 30_000);

  test("a MySQL target needs the mysql (or mariadb) client", async () => {
    const file = join(dir, "mysql.json");
    writeFileSync(file, JSON.stringify({ m: { ...stack.outputs, db_engine: "mysql", db_port: 3306 } }));
    expect(await failing(["-o", file], { ...sandbox.env, PATH: dir })).toStartWith(
      "'mysql' is not installed or not on PATH: install the MySQL client",
    );
  }, 30_000);

  test("no permission to write the hosts file: sudo hint", async () => {
    const hosts = join(dir, "hosts");
    writeFileSync(hosts, "127.0.0.1 localhost\n", { mode: 0o644 });
    const outputs = join(dir, "readable.outputs.json");
    copyFileSync(stack.outputsFile, outputs);
    chmodSync(outputs, 0o644);
    const env = { ...sandbox.env, DBTUNNEL_HOSTS_FILE: hosts, HOME: dir };
    const line = await failing(["-o", outputs, "--hosts-file", ...exec], env, 1, [
      "runuser",
      "-u",
      "nobody",
      "--",
    ]);
    expect(line).toBe(
      `No permission to write ${hosts}: rerun with sudo for --hosts-file, or drop --hosts-file to use the default mode (libpq hostaddr, no system change).`,
    );
    expect(readFileSync(hosts, "utf8")).toBe("127.0.0.1 localhost\n");
  }, 30_000);

  test("usage errors exit 2 with a pointer to --help", async () => {
    const run = await runCli(["connect", "--listen", "--print-env"], sandbox.env);
    expect(run.exitCode).toBe(2);
    expect(failureLine(run.stderr)).toBe(
      "--listen and --print-env cannot be combined (see 'dbtunnel connect --help')",
    );
    const unknown = await runCli(["conect"], sandbox.env);
    expect(unknown.exitCode).toBe(2);
    expect(failureLine(unknown.stderr)).toBe("unknown command 'conect' (see 'dbtunnel --help')");
  }, 30_000);

  test("--verbose adds the stack trace; --json reports the error as an event", async () => {
    const file = join(dir, "missing.json");
    const verbose = await runCli(["connect", "-o", file, "--verbose"], sandbox.env);
    expect(verbose.exitCode).toBe(1);
    expect(verbose.stderr).toMatch(/^\s+at /m);
    const json = await runCli(["connect", "-o", file, "--json"], sandbox.env);
    const events = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.at(-1)).toMatchObject({ type: "error", code: "OutputsFile" });
    expect(json.stderr).toBe("");
  }, 30_000);
});
