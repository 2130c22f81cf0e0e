/**
 * StartSession's ECS Exec target check against a real moto through the gateway: only the runtime id the
 * corrected DescribeTasks shows, of a running task, in its own cluster, is connected; everything else is
 * TargetNotConnected with AWS's wording, and a string that is no target id is InvalidTarget.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
} from "@aws-sdk/client-ecs";
import {
  SSMClient,
  StartSessionCommand,
  type StartSessionCommandInput,
  TerminateSessionCommand,
} from "@aws-sdk/client-ssm";
import { startTestGateway, type TestGateway } from "../../test-support/sandbox/test-gateway.ts";
import { parseTarget, targetArn } from "./targets.ts";

describe("parseTarget", () => {
  test("instance ids and ecs:<cluster>_<taskId>_<runtimeId> (cluster names may hold underscores)", () => {
    expect(parseTarget("i-0123456789abcdef0")).toEqual({ kind: "ec2", instanceId: "i-0123456789abcdef0" });
    expect(parseTarget("ecs:my_jump_cluster_0123abcd_0123abcd-3765917032")).toEqual({
      kind: "ecs",
      cluster: "my_jump_cluster",
      taskId: "0123abcd",
      runtimeId: "0123abcd-3765917032",
    });
  });

  test("anything else is InvalidTarget", () => {
    for (const bad of ["db-jumphost", "ecs:", "ecs:cluster_task", "ecs:_task_runtime", "i-xyz"]) {
      expect(() => parseTarget(bad)).toThrow(expect.objectContaining({ code: "InvalidTarget" }));
    }
  });

  test("the IAM resource of an ECS target is its task, in the region's partition", () => {
    expect(targetArn(parseTarget("ecs:jump_t1_r1"), "eu-west-1", "123456789012")).toBe(
      "arn:aws:ecs:eu-west-1:123456789012:task/jump/t1",
    );
    expect(targetArn(parseTarget("ecs:jump_t1_r1"), "us-gov-west-1", "123456789012")).toBe(
      "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task/jump/t1",
    );
  });
});

describe("StartSession on an ECS Exec target", () => {
  let tg: TestGateway;
  let ecs: ECSClient;
  let ssm: SSMClient;
  /** A running task in cluster "jump" and its container's runtime id as DescribeTasks shows it. */
  let running: { taskArn: string; taskId: string; runtimeId: string };
  let stopped: { taskId: string; runtimeId: string };

  const portForward = (target: string): StartSessionCommandInput => ({
    Target: target,
    DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
    Parameters: { host: ["db.internal"], portNumber: ["5432"], localPortNumber: ["0"] },
  });

  async function startError(target: string) {
    try {
      const res = await ssm.send(new StartSessionCommand(portForward(target)));
      await ssm.send(new TerminateSessionCommand({ SessionId: res.SessionId }));
      return { name: "started", message: "", status: 200 };
    } catch (error) {
      const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
      return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
    }
  }

  async function runTask(cluster: string): Promise<{ taskArn: string; taskId: string; runtimeId: string }> {
    const run = await ecs.send(
      new RunTaskCommand({
        cluster,
        taskDefinition: "jumphost",
        launchType: "FARGATE",
        enableExecuteCommand: true,
      }),
    );
    const taskArn = run.tasks?.[0]?.taskArn ?? "";
    // Read the runtime id the way the CLI does: DescribeTasks through the gateway.
    const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
    const runtimeId = described.tasks?.[0]?.containers?.[0]?.runtimeId ?? "";
    expect(runtimeId).not.toBe("");
    return { taskArn, taskId: taskArn.split("/").pop() ?? "", runtimeId };
  }

  beforeAll(async () => {
    tg = await startTestGateway({ destination: { host: "127.0.0.1", port: 9 } });
    const config = {
      endpoint: tg.gateway.url,
      region: tg.region,
      credentials: tg.credentials,
      maxAttempts: 1,
    };
    ecs = new ECSClient(config);
    ssm = new SSMClient(config);
    for (const clusterName of ["jump", "other"]) await ecs.send(new CreateClusterCommand({ clusterName }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "jumphost",
        containerDefinitions: [{ name: "jumphost", image: "busybox", cpu: 256, memory: 512 }],
      }),
    );
    running = await runTask("jump");
    stopped = await runTask("jump");
    await ecs.send(new StopTaskCommand({ cluster: "jump", task: stopped.taskId, reason: "scaled in" }));
  }, 60_000);

  afterAll(async () => {
    ecs?.destroy();
    ssm?.destroy();
    await tg?.stop();
  });

  test("the running task with its container's runtime id is connected, again and again", async () => {
    const target = `ecs:jump_${running.taskId}_${running.runtimeId}`;
    for (let i = 0; i < 3; i++) expect(await startError(target)).toMatchObject({ name: "started" });
  });

  test("a wrong runtime id is not connected, with AWS's wording", async () => {
    const target = `ecs:jump_${running.taskId}_${running.taskId.replaceAll("-", "")}-0000000000`;
    expect(await startError(target)).toEqual({
      name: "TargetNotConnected",
      message: `${target} is not connected.`,
      status: 400,
    });
    // Another task's runtime id does not open this one.
    expect(await startError(`ecs:jump_${running.taskId}_${stopped.runtimeId}`)).toMatchObject({
      name: "TargetNotConnected",
    });
  });

  test("an unknown task, a task id moto would match as a substring, or another cluster is not connected", async () => {
    const unknown = "0123456789abcdef0123456789abcdef";
    for (const target of [
      `ecs:jump_${unknown}_${unknown}-1234567890`,
      `ecs:jump_x${running.taskId}_${running.runtimeId}`,
      `ecs:other_${running.taskId}_${running.runtimeId}`,
      `ecs:no-such-cluster_${running.taskId}_${running.runtimeId}`,
    ]) {
      expect({ target, ...(await startError(target)) }).toMatchObject({ target, name: "TargetNotConnected" });
    }
  });

  test("a stopped task is not connected", async () => {
    expect(await startError(`ecs:jump_${stopped.taskId}_${stopped.runtimeId}`)).toMatchObject({
      name: "TargetNotConnected",
    });
  });

  test("a malformed ECS target is InvalidTarget", async () => {
    expect(await startError(`ecs:jump_${running.taskId}`)).toMatchObject({
      name: "InvalidTarget",
      status: 400,
    });
  });
});
