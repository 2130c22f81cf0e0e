/**
 * A listener that outlives its session takes each new session's credentials from the SDK's standard chain,
 * so credentials refreshed meanwhile (SSO, assume-role, a credential_process) are the ones used: the real
 * CLI as a subprocess, an AWS profile whose `credential_process` hands out short-lived credentials, and the
 * sandbox gateway, which checks IAM on StartSession and names the caller in the session id (`<user>-...`,
 * as Session Manager does).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { SSMClient, TerminateSessionCommand } from "@aws-sdk/client-ssm";
import {
  adminClientConfig,
  type FixtureSandbox,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { expectNoSecrets, startCli } from "../test-support/cli/helpers.ts";
import { waitFor } from "../test-support/wait.ts";

interface AccessKey {
  readonly AccessKeyId: string;
  readonly SecretAccessKey: string;
}

let sandbox: FixtureSandbox;
let stack: SeededStack;
let dir: string;
const keys: Record<string, AccessKey> = {};

beforeAll(async () => {
  sandbox = await startFixtureSandbox();
  stack = await seedStack(sandbox);
  dir = mkdtempSync(join(tmpdir(), "dbtunnel-credentials-"));
  const iam = new IAMClient(adminClientConfig(sandbox));
  try {
    const policy = await iam.send(
      new CreatePolicyCommand({
        PolicyName: "tunnel-user",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["ssm:*", "ec2:Describe*"], Resource: "*" }],
        }),
      }),
    );
    // Two engineers stand for the credentials before and after the refresh: each session names its caller.
    for (const UserName of ["alice", "bob"]) {
      await iam.send(new CreateUserCommand({ UserName }));
      await iam.send(new AttachUserPolicyCommand({ UserName, PolicyArn: policy.Policy?.Arn }));
      const created = await iam.send(new CreateAccessKeyCommand({ UserName }));
      keys[UserName] = {
        AccessKeyId: created.AccessKey?.AccessKeyId ?? "",
        SecretAccessKey: created.AccessKey?.SecretAccessKey ?? "",
      };
    }
  } finally {
    iam.destroy();
  }
}, 60_000);

afterAll(async () => {
  await stack?.cleanup();
  await sandbox?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/**
 * What the profile's credential_process prints now: `user`'s key, expiring in a minute. The SDK asks the
 * chain again for credentials that expire within 5 minutes (with an hour left, the replacement session
 * would still be alice's: checked), as it does for SSO and assumed-role credentials near their end.
 */
function handOut(file: string, user: string): void {
  const key = keys[user];
  if (!key) throw new Error(`no key for ${user}`);
  const expiration = new Date(Date.now() + 60_000).toISOString();
  writeFileSync(file, JSON.stringify({ Version: 1, ...key, Expiration: expiration }), { mode: 0o600 });
}

function sessionIds(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { type?: string; sessionId?: string })
    .filter((event) => event.type === "session" && typeof event.sessionId === "string")
    .map((event) => event.sessionId as string);
}

test("--listen: the session that replaces an ended one uses the credentials the profile hands out now", async () => {
  const current = join(dir, "current.json");
  const config = join(dir, "config");
  handOut(current, "alice");
  writeFileSync(config, `[profile engineer]\ncredential_process = cat ${current}\n`);
  const env = {
    ...sandbox.env,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: "engineer",
    AWS_CONFIG_FILE: config,
  };
  const live = startCli(["connect", "-o", stack.outputsFile, "--listen", "--json"], env);
  try {
    await live.waitForStdout((out) => sessionIds(out).length === 1);
    const [first] = sessionIds(live.stdout());
    expect(first).toStartWith("alice-");

    // The credentials are refreshed (a new SSO login, another role session), then the session ends.
    handOut(current, "bob");
    const ssm = new SSMClient(adminClientConfig(sandbox));
    try {
      await ssm.send(new TerminateSessionCommand({ SessionId: first }));
    } finally {
      ssm.destroy();
    }
    await live.waitForStdout((out) => sessionIds(out).length === 2, 20_000);
    const [, second] = sessionIds(live.stdout());
    expect(second).toStartWith("bob-");
    expect(sandbox.activeSessions()).toEqual([second as string]);
    expect(live.stdout()).toContain('"type":"session-ended"');
  } finally {
    live.kill("SIGINT");
  }
  expect(await live.exited).toBe(0);
  expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
  expectNoSecrets(live.stdout() + live.stderr(), sandbox.env);
  for (const key of Object.values(keys))
    expect(live.stdout() + live.stderr()).not.toContain(key.SecretAccessKey);
}, 90_000);
