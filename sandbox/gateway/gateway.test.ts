/**
 * The gateway's AWS face, exercised with the real AWS SDK v3 clients against a real moto: Session
 * Manager operations and their errors, credential checks per protocol, proxying, the control endpoint.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  DescribeInstancesCommand,
  DescribeVpcsCommand,
  EC2Client,
  StopInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from "@aws-sdk/client-ecs";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import {
  DescribeInstanceInformationCommand,
  ResumeSessionCommand,
  SSMClient,
  StartSessionCommand,
  type StartSessionCommandInput,
  TerminateSessionCommand,
} from "@aws-sdk/client-ssm";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import {
  runTestInstance,
  startTestGateway,
  type TestGateway,
} from "../../test-support/sandbox/test-gateway.ts";
import type { SandboxCredentials } from "./types.ts";

let tg: TestGateway;
let stoppedInstanceId: string;

beforeAll(async () => {
  tg = await startTestGateway({ destination: { host: "127.0.0.1", port: 9 }, restricted: true });
  stoppedInstanceId = await runTestInstance(tg.moto.url, tg.region, tg.credentials);
  const ec2 = new EC2Client({ endpoint: tg.moto.url, region: tg.region, credentials: tg.credentials });
  await ec2.send(new StopInstancesCommand({ InstanceIds: [stoppedInstanceId] }));
  ec2.destroy();
}, 60_000);

afterAll(async () => {
  await tg?.stop();
});

function config(credentials: SandboxCredentials = tg.credentials) {
  return { endpoint: tg.gateway.url, region: tg.region, credentials, maxAttempts: 1 };
}

const portForward = (target: string): StartSessionCommandInput => ({
  Target: target,
  DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
  Parameters: { host: ["db.internal"], portNumber: ["5432"], localPortNumber: ["0"] },
});

async function startError(input: StartSessionCommandInput, credentials?: SandboxCredentials) {
  const ssm = new SSMClient(config(credentials));
  try {
    await ssm.send(new StartSessionCommand(input));
    throw new Error("StartSession unexpectedly succeeded");
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  } finally {
    ssm.destroy();
  }
}

describe("StartSession", () => {
  test("returns an AWS-shaped SessionId, a ws StreamUrl on the gateway and a token", async () => {
    const ssm = new SSMClient(config());
    const res = await ssm.send(new StartSessionCommand(portForward(tg.instanceId)));
    expect(res.SessionId).toMatch(/^dbtunnel-sandbox-[0-9a-f]{17}$/);
    expect(res.StreamUrl).toBe(
      `ws://127.0.0.1:${tg.gateway.port}/v1/data-channel/${res.SessionId}?role=publish_subscribe`,
    );
    expect(res.TokenValue?.length).toBeGreaterThan(64);
    expect(tg.gateway.activeSessions()).toContain(res.SessionId as string);
    const resumed = await ssm.send(new ResumeSessionCommand({ SessionId: res.SessionId }));
    expect(resumed.TokenValue).not.toBe(res.TokenValue);
    const terminated = await ssm.send(new TerminateSessionCommand({ SessionId: res.SessionId }));
    expect(terminated.SessionId).toBe(res.SessionId);
    expect(tg.gateway.activeSessions()).not.toContain(res.SessionId as string);
    ssm.destroy();
  });

  test("AWS-StartPortForwardingSession (no host) is accepted", async () => {
    const ssm = new SSMClient(config());
    const res = await ssm.send(
      new StartSessionCommand({
        Target: tg.instanceId,
        DocumentName: "AWS-StartPortForwardingSession",
        Parameters: { portNumber: ["5432"] },
      }),
    );
    expect(res.SessionId).toBeString();
    ssm.destroy();
  });

  test("an instance moto does not know is not connected", async () => {
    expect(await startError(portForward("i-0123456789abcdef0"))).toMatchObject({
      name: "TargetNotConnected",
      message: "i-0123456789abcdef0 is not connected.",
      status: 400,
    });
  });

  test("a stopped instance is not connected", async () => {
    expect(await startError(portForward(stoppedInstanceId))).toMatchObject({ name: "TargetNotConnected" });
  });

  test("a target that is no target id is invalid", async () => {
    expect(await startError(portForward("db-jumphost"))).toMatchObject({ name: "InvalidTarget" });
  });

  test("an ECS task moto does not run is not connected", async () => {
    expect(await startError(portForward("ecs:cluster_0123456789abcdef_0123456789abcdef-1"))).toMatchObject({
      name: "TargetNotConnected",
    });
  });

  test("a running ECS task is a valid target", async () => {
    const ecs = new ECSClient(config());
    await ecs.send(new CreateClusterCommand({ clusterName: "jump" }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "jump",
        containerDefinitions: [{ name: "c", image: "busybox", memory: 64 }],
      }),
    );
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: "jump",
        taskDefinition: "jump",
        launchType: "FARGATE",
        enableExecuteCommand: true,
        networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-12345678"] } },
      }),
    );
    const taskArn = run.tasks?.[0]?.taskArn as string;
    const taskId = taskArn.split("/").pop() as string;
    // The runtime id as the CLI reads it: from DescribeTasks through the gateway (targets.test.ts).
    const described = await ecs.send(new DescribeTasksCommand({ cluster: "jump", tasks: [taskArn] }));
    const runtimeId = described.tasks?.[0]?.containers?.[0]?.runtimeId as string;
    const ssm = new SSMClient(config());
    const target = `ecs:jump_${taskId}_${runtimeId}`;
    // Twice: describing the task must not move it out of RUNNING.
    expect((await ssm.send(new StartSessionCommand(portForward(target)))).SessionId).toBeString();
    expect((await ssm.send(new StartSessionCommand(portForward(target)))).SessionId).toBeString();
    ssm.destroy();
    ecs.destroy();
  });

  test("only Port session documents are accepted", async () => {
    expect(
      await startError({ ...portForward(tg.instanceId), DocumentName: "AWS-StartSSHSession" }),
    ).toMatchObject({
      name: "InvalidDocument",
    });
    expect(await startError({ Target: tg.instanceId })).toMatchObject({ name: "InvalidDocument" });
  });

  test("parameters the document does not declare or its allowedPattern refuses are InvalidParameters", async () => {
    const base = portForward(tg.instanceId);
    const cases: Record<string, string[]>[] = [
      { host: ["db"], portNumber: ["0"] },
      { host: ["db"], portNumber: ["65536"] },
      { host: ["db"], portNumber: ["http"] },
      { portNumber: ["5432"] },
      { host: ["db"], portNumber: ["5432"], command: ["id"] },
      { host: ["db", "other"], portNumber: ["5432"] },
    ];
    for (const Parameters of cases) {
      const error = await startError({ ...base, Parameters });
      expect(error.name, JSON.stringify(Parameters)).toBe("InvalidParameters");
    }
    // AWS's wording for a value that breaks the pattern.
    expect(
      (await startError({ ...base, Parameters: { host: ["db;x"], portNumber: ["5432"] } })).message,
    ).toBe(`Parameter "host" has value "db;x" not matching "^[^,$^&\\(\\)!;'"<>\\\`{}\\[\\]\\|#=]{3,}$".`);
  });

  test("the restricted role gets AWS's AccessDenied wording", async () => {
    const error = await startError(portForward(tg.instanceId), tg.restrictedCredentials);
    expect(error.name).toBe("AccessDeniedException");
    expect(error.message).toBe(
      `User: arn:aws:sts::123456789012:assumed-role/dbtunnel-restricted/dbtunnel-restricted-session is not authorized to perform: ssm:StartSession on resource: arn:aws:ec2:${tg.region}:123456789012:instance/${tg.instanceId} because no identity-based policy allows the ssm:StartSession action`,
    );
  });

  test("unknown sessions cannot be resumed; terminating one is idempotent", async () => {
    const ssm = new SSMClient(config());
    await expect(
      ssm.send(new ResumeSessionCommand({ SessionId: "nobody-0123456789abcdef0" })),
    ).rejects.toMatchObject({
      name: "DoesNotExistException",
    });
    const res = await ssm.send(new TerminateSessionCommand({ SessionId: "nobody-0123456789abcdef0" }));
    expect(res.SessionId).toBe("nobody-0123456789abcdef0");
    ssm.destroy();
  });
});

describe("credentials", () => {
  const stranger = () => ({ ...tg.credentials, accessKeyId: "ASIAUNKNOWNKEY000000" });
  const expired = () => ({ ...tg.credentials, sessionToken: "an-old-session-token" });

  test("an unknown access key id is refused per protocol", async () => {
    expect(await startError(portForward(tg.instanceId), stranger())).toMatchObject({
      name: "UnrecognizedClientException",
      status: 403,
    });
    const sts = new STSClient(config(stranger()));
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "InvalidClientTokenId",
    });
    const ec2 = new EC2Client(config(stranger()));
    await expect(ec2.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({
      name: "InvalidClientTokenId",
    });
    sts.destroy();
    ec2.destroy();
  });

  test("a session token that is not the current one reads as expired", async () => {
    expect(await startError(portForward(tg.instanceId), expired())).toMatchObject({
      name: "ExpiredTokenException",
    });
    const sts = new STSClient(config(expired()));
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: "ExpiredToken" });
    const ec2 = new EC2Client(config(expired()));
    await expect(ec2.send(new DescribeVpcsCommand({}))).rejects.toMatchObject({ name: "ExpiredToken" });
    const secrets = new SecretsManagerClient(config(expired()));
    await expect(secrets.send(new GetSecretValueCommand({ SecretId: "x" }))).rejects.toMatchObject({
      name: "ExpiredTokenException",
    });
    sts.destroy();
    ec2.destroy();
    secrets.destroy();
  });

  test("the restricted pair may make other calls", async () => {
    const ec2 = new EC2Client(config(tg.restrictedCredentials));
    const vpcs = await ec2.send(new DescribeVpcsCommand({}));
    expect(vpcs.Vpcs?.length).toBeGreaterThan(0);
    ec2.destroy();
  });
});

describe("proxy to moto", () => {
  test("query (EC2), JSON (Secrets Manager) and STS calls reach moto unchanged", async () => {
    const ec2 = new EC2Client(config());
    const vpcs = await ec2.send(new DescribeVpcsCommand({}));
    expect(vpcs.Vpcs?.some((v) => v.IsDefault)).toBe(true);
    const instances = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [tg.instanceId] }));
    expect(instances.Reservations?.[0]?.Instances?.[0]?.InstanceId).toBe(tg.instanceId);
    const secrets = new SecretsManagerClient(config());
    await secrets.send(new CreateSecretCommand({ Name: "proxied", SecretString: "s3cr3t" }));
    const value = await secrets.send(new GetSecretValueCommand({ SecretId: "proxied" }));
    expect(value.SecretString).toBe("s3cr3t");
    const sts = new STSClient(config());
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe("123456789012");
    // moto's own errors pass through too.
    await expect(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-0000000000000000f"] })),
    ).rejects.toMatchObject({
      name: "InvalidInstanceID.NotFound",
    });
    ec2.destroy();
    secrets.destroy();
    sts.destroy();
  });

  test("S3 (rest-xml): bodies, HEAD lengths and errors pass through", async () => {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: "proxied-bucket" }));
    const body = "x".repeat(100_000);
    await s3.send(
      new PutObjectCommand({ Bucket: "proxied-bucket", Key: "k", Body: body, ContentType: "text/plain" }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: "proxied-bucket", Key: "k" }));
    expect(head.ContentLength).toBe(body.length);
    const got = await s3.send(new GetObjectCommand({ Bucket: "proxied-bucket", Key: "k" }));
    expect(got.ContentType).toBe("text/plain");
    expect(await got.Body?.transformToString()).toBe(body);
    await expect(
      s3.send(new GetObjectCommand({ Bucket: "proxied-bucket", Key: "missing" })),
    ).rejects.toMatchObject({
      name: "NoSuchKey",
    });
    const stranger = new S3Client({
      ...config({ ...tg.credentials, accessKeyId: "ASIAUNKNOWNKEY000000" }),
      forcePathStyle: true,
    });
    await expect(
      stranger.send(new HeadObjectCommand({ Bucket: "proxied-bucket", Key: "k" })),
    ).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    await expect(
      stranger.send(new GetObjectCommand({ Bucket: "proxied-bucket", Key: "k" })),
    ).rejects.toMatchObject({
      name: "InvalidAccessKeyId",
    });
    s3.destroy();
    stranger.destroy();
  });

  test("keeps status and Content-Type of unsigned calls (moto-api)", async () => {
    const res = await fetch(`${tg.gateway.url}/moto-api/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("<html");
  });
});

describe("DescribeInstanceInformation", () => {
  test("running instances are Online, stopped ones ConnectionLost, filters by InstanceIds", async () => {
    const ssm = new SSMClient(config());
    const all = await ssm.send(new DescribeInstanceInformationCommand({}));
    const status = Object.fromEntries(
      (all.InstanceInformationList ?? []).map((i) => [i.InstanceId, i.PingStatus]),
    );
    expect(status[tg.instanceId]).toBe("Online");
    expect(status[stoppedInstanceId]).toBe("ConnectionLost");
    const one = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: [tg.instanceId] }] }),
    );
    expect(one.InstanceInformationList?.map((i) => i.InstanceId)).toEqual([tg.instanceId]);
    const legacy = await ssm.send(
      new DescribeInstanceInformationCommand({
        InstanceInformationFilterList: [{ key: "InstanceIds", valueSet: [stoppedInstanceId] }],
      }),
    );
    expect(legacy.InstanceInformationList?.map((i) => i.PingStatus)).toEqual(["ConnectionLost"]);
    ssm.destroy();
  });
});

describe("control endpoint", () => {
  test("sets faults for new sessions and for one session, lists sessions with stats", async () => {
    const post = (body: unknown) =>
      fetch(`${tg.gateway.url}/_dbtunnel/faults`, { method: "POST", body: JSON.stringify(body) });
    expect((await post({ plan: { agentVersion: "3.0.0.0", seed: 5 } })).status).toBe(200);
    const ssm = new SSMClient(config());
    const res = await ssm.send(new StartSessionCommand(portForward(tg.instanceId)));
    expect((await post({ plan: {} })).status).toBe(200);
    const list = (await (await fetch(`${tg.gateway.url}/_dbtunnel/sessions`)).json()) as {
      sessions: { sessionId: string; agentVersion: string; seed: number }[];
    };
    expect(list.sessions.find((s) => s.sessionId === res.SessionId)).toMatchObject({
      agentVersion: "3.0.0.0",
      seed: 5,
    });
    expect((await post({ sessionId: res.SessionId, plan: { seed: 9 } })).status).toBe(200);
    expect(tg.gateway.sessionStats(res.SessionId as string)?.seed).toBe(9);
    const unknown = await post({ sessionId: "nobody", plan: {} });
    expect(unknown.status).toBe(404);
    const bad = await post({ plan: { dropRate: 2 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain("dropRate");
    expect((await post({ plan: { dropRat: 0.1 } })).status).toBe(400);
    // The unpaced switch (a client's own cost, e.g. bench/tunnel.ts's latency without the agent's sleep).
    expect((await post({ plan: { unpaced: true } })).status).toBe(200);
    const unpaced = await ssm.send(new StartSessionCommand(portForward(tg.instanceId)));
    expect((await post({ plan: {} })).status).toBe(200);
    expect(tg.gateway.sessionStats(unpaced.SessionId as string)?.paced).toBe(false);
    expect((await post({ plan: { unpaced: "yes" } })).status).toBe(400);
    ssm.destroy();
  });
});
