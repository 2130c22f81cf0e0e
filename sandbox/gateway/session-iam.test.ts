/**
 * IAM on the session calls, end to end through the real SDK and moto's IAM/STS: an IAM-user engineer
 * and an assumed-role engineer (the shape IAM Identity Center users have) holding the stack's kind of
 * engineer policy, a Port document pinned to the database, and the AWS-owned documents.
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
import {
  CreateDocumentCommand,
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  type StartSessionCommandInput,
  TerminateSessionCommand,
} from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import {
  runTestInstance,
  startTestGateway,
  type TestGateway,
} from "../../test-support/sandbox/test-gateway.ts";
import type { SandboxCredentials } from "./types.ts";

const DB_HOST = "dbt-test.cabcdefghijk.us-east-1.rds.amazonaws.com";
const DOCUMENT = "dbt-test-db-port";

let tg: TestGateway;
let otherInstanceId: string;
let alice: SandboxCredentials;
let bob: SandboxCredentials;
let carol: SandboxCredentials;
let dave: SandboxCredentials;
let nobody: SandboxCredentials;

function pinnedDocument(): string {
  const escaped = DB_HOST.replaceAll(".", "\\.");
  return JSON.stringify({
    schemaVersion: "1.0",
    description: "Port forwarding to the test database only",
    sessionType: "Port",
    parameters: {
      host: { type: "String", default: DB_HOST, allowedPattern: `^${escaped}$` },
      portNumber: { type: "String", default: "5432", allowedPattern: "^5432$" },
      localPortNumber: {
        type: "String",
        default: "0",
        allowedPattern: "^([0-9]{1,4}|[1-5][0-9]{4}|6[0-5][0-9]{3})$",
      },
    },
    properties: {
      type: "LocalPortForwarding",
      host: "{{ host }}",
      portNumber: "{{ portNumber }}",
      localPortNumber: "{{ localPortNumber }}",
    },
  });
}

function engineerPolicy(instanceId: string): string {
  const region = tg.region;
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Action: "ssm:StartSession",
        Resource: [
          `arn:aws:ec2:${region}:123456789012:instance/${instanceId}`,
          `arn:aws:ssm:${region}:123456789012:document/${DOCUMENT}`,
        ],
        Condition: { BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" } },
      },
      {
        Effect: "Allow",
        Action: ["ssm:ResumeSession", "ssm:TerminateSession"],
        Resource: `arn:aws:ssm:${region}:123456789012:session/*`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable
        Condition: { StringLike: { "ssm:resourceTag/aws:ssmmessages:session-id": "${aws:userid}" } },
      },
    ],
  });
}

const keys = (k: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined) => ({
  accessKeyId: k?.AccessKeyId as string,
  secretAccessKey: k?.SecretAccessKey as string,
  ...(k?.SessionToken ? { sessionToken: k.SessionToken } : {}),
});

beforeAll(async () => {
  tg = await startTestGateway({ destination: { host: "127.0.0.1", port: 9 } });
  otherInstanceId = await runTestInstance(tg.moto.url, tg.region, tg.credentials);
  const admin = { endpoint: tg.gateway.url, region: tg.region, credentials: tg.credentials };
  const iam = new IAMClient(admin);
  const ssm = new SSMClient(admin);
  const sts = new STSClient(admin);
  await ssm.send(
    new CreateDocumentCommand({ Name: DOCUMENT, DocumentType: "Session", Content: pinnedDocument() }),
  );
  const policy = await iam.send(
    new CreatePolicyCommand({ PolicyName: "engineer", PolicyDocument: engineerPolicy(tg.instanceId) }),
  );
  const PolicyArn = policy.Policy?.Arn as string;
  const user = async (UserName: string, attach: boolean) => {
    await iam.send(new CreateUserCommand({ UserName }));
    if (attach) await iam.send(new AttachUserPolicyCommand({ UserName, PolicyArn }));
    return keys((await iam.send(new CreateAccessKeyCommand({ UserName }))).AccessKey);
  };
  alice = await user("alice", true);
  bob = await user("bob", true);
  nobody = await user("nobody", false);
  const role = await iam.send(
    new CreateRoleCommand({
      RoleName: "engineer",
      AssumeRolePolicyDocument: JSON.stringify({
        Statement: [
          { Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "sts:AssumeRole" },
        ],
      }),
    }),
  );
  await iam.send(new AttachRolePolicyCommand({ RoleName: "engineer", PolicyArn }));
  const assume = async (RoleSessionName: string) =>
    keys((await sts.send(new AssumeRoleCommand({ RoleArn: role.Role?.Arn, RoleSessionName }))).Credentials);
  carol = await assume("carol@example.com");
  dave = await assume("dave");
  iam.destroy();
  ssm.destroy();
  sts.destroy();
}, 60_000);

afterAll(async () => {
  await tg?.stop();
});

function client(credentials: SandboxCredentials): SSMClient {
  return new SSMClient({ endpoint: tg.gateway.url, region: tg.region, credentials, maxAttempts: 1 });
}

async function attempt<T>(run: () => Promise<T>): Promise<T | { name: string; message: string }> {
  try {
    return await run();
  } catch (error) {
    const e = error as { name: string; message: string };
    return { name: e.name, message: e.message };
  }
}

const pinned = (Parameters?: Record<string, string[]>): StartSessionCommandInput => ({
  Target: tg.instanceId,
  DocumentName: DOCUMENT,
  ...(Parameters ? { Parameters } : {}),
});

describe.each([
  ["IAM user", () => ({ me: alice, peer: bob, prefix: "alice-" })],
  ["assumed role", () => ({ me: carol, peer: dave, prefix: "carol@example.com-" })],
])("%s engineer", (_kind, who) => {
  test("starts a session to the database with the pinned document; resumes and ends only its own", async () => {
    const { me, peer, prefix } = who();
    const mine = client(me);
    const theirs = client(peer);
    const started = await mine.send(new StartSessionCommand(pinned({ localPortNumber: ["0"] })));
    const id = started.SessionId as string;
    expect(id.startsWith(prefix)).toBe(true);
    expect(id.slice(prefix.length)).toMatch(/^[0-9a-f]{17}$/);
    expect((await mine.send(new ResumeSessionCommand({ SessionId: id }))).TokenValue).toBeString();
    for (const call of [
      () => theirs.send(new ResumeSessionCommand({ SessionId: id })),
      () => theirs.send(new TerminateSessionCommand({ SessionId: id })),
    ]) {
      const denied = await attempt(call);
      expect(denied).toMatchObject({ name: "AccessDeniedException" });
      expect((denied as { message: string }).message).toContain(
        `on resource: arn:aws:ssm:${tg.region}:123456789012:session/${id} because no identity-based policy allows`,
      );
    }
    expect(tg.gateway.activeSessions()).toContain(id);
    await mine.send(new TerminateSessionCommand({ SessionId: id }));
    expect(tg.gateway.activeSessions()).not.toContain(id);
    mine.destroy();
    theirs.destroy();
  });

  test("the pinned document refuses localhost, another host and another port", async () => {
    const ssm = client(who().me);
    const cases: [Record<string, string[]>, string][] = [
      [{ host: ["localhost"] }, `Parameter "host" has value "localhost" not matching`],
      [{ host: ["169.254.169.254"], portNumber: ["80"] }, `Parameter "host" has value "169.254.169.254"`],
      [{ host: ["other.cabcdefghijk.us-east-1.rds.amazonaws.com"] }, `Parameter "host" has value "other.`],
      [{ portNumber: ["22"] }, `Parameter "portNumber" has value "22" not matching "^5432$".`],
    ];
    for (const [Parameters, message] of cases) {
      const error = await attempt(() => ssm.send(new StartSessionCommand(pinned(Parameters))));
      expect(error, JSON.stringify(Parameters)).toMatchObject({ name: "InvalidParameters" });
      expect((error as { message: string }).message).toContain(message);
    }
    ssm.destroy();
  });

  test("the AWS-owned forwarding documents and other targets are denied by IAM", async () => {
    const { me } = who();
    const ssm = client(me);
    for (const DocumentName of [
      "AWS-StartPortForwardingSessionToRemoteHost",
      "AWS-StartPortForwardingSession",
    ]) {
      const error = await attempt(() =>
        ssm.send(
          new StartSessionCommand({
            Target: tg.instanceId,
            DocumentName,
            Parameters: { host: ["localhost"], portNumber: ["22"] },
          }),
        ),
      );
      expect(error).toMatchObject({ name: "AccessDeniedException" });
      expect((error as { message: string }).message).toContain(
        `on resource: arn:aws:ssm:${tg.region}::document/${DocumentName} because no identity-based policy allows the ssm:StartSession action`,
      );
    }
    const otherHost = await attempt(() =>
      ssm.send(new StartSessionCommand({ ...pinned(), Target: otherInstanceId })),
    );
    expect(otherHost).toMatchObject({ name: "AccessDeniedException" });
    expect((otherHost as { message: string }).message).toContain(`instance/${otherInstanceId}`);
    ssm.destroy();
  });
});

test("a user without a policy may not start a session; an unknown key is not a principal", async () => {
  const ssm = client(nobody);
  const error = await attempt(() => ssm.send(new StartSessionCommand(pinned())));
  expect(error).toMatchObject({ name: "AccessDeniedException" });
  expect((error as { message: string }).message).toStartWith("User: arn:aws:iam::123456789012:user/nobody ");
  ssm.destroy();
  const stranger = client({ accessKeyId: "AKIAUNKNOWNKEY000000", secretAccessKey: "x" });
  expect(await attempt(() => stranger.send(new StartSessionCommand(pinned())))).toMatchObject({
    name: "UnrecognizedClientException",
  });
  stranger.destroy();
});
