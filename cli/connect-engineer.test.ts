/**
 * The real CLI as an engineer holding exactly the stack's engineer policy (modules/engineer-access.ts),
 * against the sandbox gateway that evaluates IAM on session calls: an IAM user and an assumed role start
 * a session with the stack's pinned Port document (read from the outputs) and end it themselves on exit;
 * the AWS-owned remote-host document is denied with one line. The token is only generated here, not
 * used: the sandbox's token verifier knows the sandbox's own key only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { Database } from "../modules/database.ts";
import { EngineerAccess } from "../modules/engineer-access.ts";
import { JumpHost } from "../modules/jumphost.ts";
import type { SessionStats } from "../sandbox/gateway/types.ts";
import {
  adminClientConfig,
  type FixtureSandbox,
  runCli,
  type SeededStack,
  seedStack,
  startFixtureSandbox,
} from "../test-support/cli/fixtures.ts";
import { expectNoSecrets } from "../test-support/cli/helpers.ts";
import { synthesize } from "../test-support/modules/synth.ts";
import { waitFor } from "../test-support/wait.ts";

let sandbox: FixtureSandbox;
let stack: SeededStack;
const engineers: Record<string, Record<string, string>> = {};

const ACCOUNT = "123456789012";

beforeAll(async () => {
  sandbox = await startFixtureSandbox();
  stack = await seedStack(sandbox, { dbUser: "eng_user" });
  const region = sandbox.region;
  // The module's own policy, synthesized for this jump host and document, with what Terraform would
  // substitute at apply: the partition, and "$${" (Terraform's escape) reaching IAM as "${".
  const tf = synthesize(
    (s) =>
      new EngineerAccess(s, "access", {
        namePrefix: stack.stackName,
        region,
        accountId: ACCOUNT,
        jumpHost: JumpHost.fromEc2Instance(s, "jump", {
          region,
          accountId: ACCOUNT,
          securityGroupId: "sg-jump",
          instanceId: stack.instanceId,
        }),
        database: Database.fromExisting(s, "db", {
          identifier: stack.dbIdentifier,
          securityGroupId: "sg-db",
        }),
        databaseUsers: [stack.dbUser],
        kmsKeyArn: `arn:aws:kms:${region}:${ACCOUNT}:key/00000000-0000-0000-0000-000000000000`,
        session: {
          documentArns: [`arn:aws:ssm:${region}:${ACCOUNT}:document/${stack.outputs.session_document_name}`],
        },
      }),
  );
  const PolicyDocument = String(tf.one("aws_iam_policy").policy)
    .replace(/\$\{data\.aws_partition\.[\w-]+\.partition\}/g, "aws")
    .replace(/\$\{data\.aws_region\.[\w-]+\.name\}/g, region)
    .replace(/\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}/g, ACCOUNT)
    .replace(/\$\{data\.[^}]+\}/g, stack.resourceId)
    .replaceAll("$${", "${");
  expect(PolicyDocument).not.toContain("${data.");
  const admin = { ...adminClientConfig(sandbox), region };
  const iam = new IAMClient(admin);
  const sts = new STSClient(admin);
  const policy = await iam.send(
    new CreatePolicyCommand({ PolicyName: `${stack.stackName}-engineer`, PolicyDocument }),
  );
  const PolicyArn = policy.Policy?.Arn as string;
  await iam.send(new CreateUserCommand({ UserName: "erin" }));
  await iam.send(new AttachUserPolicyCommand({ UserName: "erin", PolicyArn }));
  const key = (await iam.send(new CreateAccessKeyCommand({ UserName: "erin" }))).AccessKey;
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: `${stack.stackName}-engineer`,
      AssumeRolePolicyDocument: JSON.stringify({
        Statement: [
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" },
        ],
      }),
    }),
  );
  await iam.send(new AttachRolePolicyCommand({ RoleName: `${stack.stackName}-engineer`, PolicyArn }));
  const assumed = (
    await sts.send(new AssumeRoleCommand({ RoleArn: role.Role?.Arn, RoleSessionName: "frank@example.com" }))
  ).Credentials;
  const envWith = (id?: string, secret?: string, token?: string) => {
    const env: Record<string, string> = { ...sandbox.env };
    env.AWS_ACCESS_KEY_ID = id as string;
    env.AWS_SECRET_ACCESS_KEY = secret as string;
    if (token) env.AWS_SESSION_TOKEN = token;
    else delete env.AWS_SESSION_TOKEN;
    return env;
  };
  engineers.user = envWith(key?.AccessKeyId, key?.SecretAccessKey);
  engineers.role = envWith(assumed?.AccessKeyId, assumed?.SecretAccessKey, assumed?.SessionToken);
  iam.destroy();
  sts.destroy();
}, 60_000);

afterAll(async () => {
  await stack?.cleanup();
  await sandbox?.stop();
});

async function sessions(): Promise<SessionStats[]> {
  const res = await fetch(`${sandbox.env.AWS_ENDPOINT_URL}/_dbtunnel/sessions`);
  return ((await res.json()) as { sessions: SessionStats[] }).sessions;
}

describe.each([
  ["an IAM user", "user", "erin-"],
  ["an assumed role (the shape of an IAM Identity Center user)", "role", "frank@example.com-"],
])("the real CLI as %s with the stack's engineer policy", (_name, kind, prefix) => {
  test("starts its session with the pinned document and ends it itself", async () => {
    const env = engineers[kind] as Record<string, string>;
    const before = (await sessions()).length;
    const run = await runCli(["connect", "-o", stack.outputsFile, "--exec", "--", "true"], env);
    expect(run.stderr).not.toContain("denied");
    expect(run.exitCode).toBe(0);
    const started = (await sessions()).slice(before);
    expect(started).toHaveLength(1);
    expect(started[0]?.sessionId.startsWith(prefix)).toBe(true);
    // Ended on exit: nothing is left running.
    expect(await waitFor(() => sandbox.activeSessions().length === 0)).toBe(true);
    expectNoSecrets(run.stdout + run.stderr, env);
  }, 30_000);

  test("the AWS-owned remote-host document is denied with one line, and no session is left", async () => {
    const env = engineers[kind] as Record<string, string>;
    const run = await runCli(
      [
        "connect",
        "-o",
        stack.outputsFile,
        "--document",
        "AWS-StartPortForwardingSessionToRemoteHost",
        "--exec",
        "--",
        "true",
      ],
      env,
    );
    expect(run.exitCode).not.toBe(0);
    const lines = run.stderr.trim().split("\n");
    expect(lines.at(-1)).toContain("Access denied");
    expect(run.stderr).not.toContain("    at ");
    expect(sandbox.activeSessions()).toEqual([]);
  }, 30_000);
});
