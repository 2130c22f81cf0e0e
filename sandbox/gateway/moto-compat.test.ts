/**
 * The moto corrections, first as pure rewrites, then against a real moto through the gateway with the
 * real SDK: the calls Terraform and the CLI make must see what AWS would answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CreateSecurityGroupCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  DescribeTasksCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from "@aws-sdk/client-ecs";
import {
  CreateDBParameterGroupCommand,
  DescribeDBParametersCommand,
  ModifyDBParameterGroupCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { startTestGateway, type TestGateway } from "../../test-support/sandbox/test-gateway.ts";
import {
  addContainerRuntimeIds,
  addParameterSource,
  dropMemoryMarkers,
  ECS_DESCRIBE_TASKS,
  ECS_REGISTER_TASK_DEFINITION,
  ecsRuntimeId,
  responseRewrite,
  rewriteRequestBody,
} from "./moto-compat.ts";

const form = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;
const text = (body: ArrayBuffer | undefined) => new TextDecoder().decode(body);

describe("pure rewrites", () => {
  test("ModifyInstanceAttribute X.Value=... becomes Attribute=x&Value=...", () => {
    const out = rewriteRequestBody(
      "ec2",
      form(
        "Action=ModifyInstanceAttribute&InstanceId=i-1&InstanceInitiatedShutdownBehavior.Value=stop&Version=2016-11-15",
      ),
    );
    const params = new URLSearchParams(text(out));
    expect(params.get("Attribute")).toBe("instanceInitiatedShutdownBehavior");
    expect(params.get("Value")).toBe("stop");
    expect(params.has("InstanceInitiatedShutdownBehavior.Value")).toBe(false);
    expect(params.get("InstanceId")).toBe("i-1");
  });

  test("other calls and services pass through untouched", () => {
    const groups = form("Action=ModifyInstanceAttribute&InstanceId=i-1&GroupId.1=sg-1");
    expect(rewriteRequestBody("ec2", groups)).toBe(groups);
    const other = form("Action=DescribeInstances");
    expect(rewriteRequestBody("ec2", other)).toBe(other);
    const rds = form("Action=ModifyInstanceAttribute&InstanceInitiatedShutdownBehavior.Value=stop");
    expect(rewriteRequestBody("rds", rds)).toBe(rds);
  });

  test("DescribeDBParameters answers get a user Source where moto left it out", () => {
    expect(responseRewrite("rds", null, form("Action=DescribeDBParameters&DBParameterGroupName=x"))).toBe(
      addParameterSource,
    );
    expect(responseRewrite("rds", null, form("Action=DescribeDBInstances"))).toBeUndefined();
    const xml =
      "<Parameters><Parameter><ParameterName>rds.force_ssl</ParameterName><ParameterValue>1</ParameterValue></Parameter>" +
      "<Parameter><ParameterName>a</ParameterName><Source>system</Source></Parameter></Parameters>";
    expect(addParameterSource(xml)).toBe(
      "<Parameters><Parameter><ParameterName>rds.force_ssl</ParameterName><ParameterValue>1</ParameterValue><Source>user</Source></Parameter>" +
        "<Parameter><ParameterName>a</ParameterName><Source>system</Source></Parameter></Parameters>",
    );
  });

  test("only ECS DescribeTasks answers get runtime ids", () => {
    expect(responseRewrite("ecs", ECS_DESCRIBE_TASKS, form("{}"))).toBe(addContainerRuntimeIds);
    expect(
      responseRewrite("ecs", "AmazonEC2ContainerServiceV20141113.ListTasks", form("{}")),
    ).toBeUndefined();
    expect(responseRewrite("ec2", null, form("Action=DescribeInstances"))).toBeUndefined();
  });

  test("Fargate containers without memory are registered with a marker moto can add up, and read back without it", () => {
    const request = {
      family: "jump",
      memory: "512",
      containerDefinitions: [
        { name: "jumphost" },
        { name: "sized", memory: 128 },
        { name: "reserved", memoryReservation: 64 },
      ],
    };
    const sent = JSON.parse(
      text(rewriteRequestBody("ecs", form(JSON.stringify(request)), ECS_REGISTER_TASK_DEFINITION)),
    );
    expect(sent.containerDefinitions).toEqual([
      { name: "jumphost", memoryReservation: 0 },
      { name: "sized", memory: 128 },
      { name: "reserved", memoryReservation: 64 },
    ]);
    // Without a task-level memory AWS requires the containers' own: nothing to mark.
    const noTaskMemory = form(JSON.stringify({ family: "x", containerDefinitions: [{ name: "c" }] }));
    expect(rewriteRequestBody("ecs", noTaskMemory, ECS_REGISTER_TASK_DEFINITION)).toBe(noTaskMemory);
    const answer = JSON.stringify({ taskDefinition: { containerDefinitions: sent.containerDefinitions } });
    expect(
      responseRewrite("ecs", "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition", undefined),
    ).toBe(dropMemoryMarkers);
    expect(JSON.parse(dropMemoryMarkers(answer)).taskDefinition.containerDefinitions).toEqual(
      request.containerDefinitions,
    );
  });

  const taskArn = "arn:aws:ecs:us-east-1:123456789012:task/jump/4c8ec372-d1a2-4bd3-80dc-6fa8110bdbf9";

  test("a runtime id has AWS's format, starts with the task id and is the same for the same container", () => {
    const id = ecsRuntimeId(taskArn, "jumphost");
    expect(id).toMatch(/^4c8ec372d1a24bd380dc6fa8110bdbf9-\d{10}$/);
    expect(ecsRuntimeId(taskArn, "jumphost")).toBe(id);
    expect(ecsRuntimeId(taskArn, "sidecar")).not.toBe(id);
    const other = ecsRuntimeId(taskArn.replace("4c8ec372", "5c8ec372"), "jumphost");
    expect(other).toStartWith("5c8ec372");
    expect(other.slice(-10)).not.toBe(id.slice(-10));
    // A task id that is not 32 hex digits still yields the format (hex derived from the ARN).
    expect(ecsRuntimeId("arn:aws:ecs:us-east-1:1:task/odd", "c")).toMatch(/^[0-9a-f]{32}-\d{10}$/);
  });

  test("every container of every task without a runtime id gets one; existing ones are kept", () => {
    const answer = {
      failures: [],
      tasks: [
        { taskArn, containers: [{ name: "jumphost" }, { name: "sidecar", runtimeId: "kept-1" }] },
        { taskArn: taskArn.replace("4c8ec372", "00000000"), containers: [{ name: "jumphost" }] },
      ],
    };
    const out = JSON.parse(addContainerRuntimeIds(JSON.stringify(answer)));
    expect(out.tasks[0].containers[0].runtimeId).toBe(ecsRuntimeId(taskArn, "jumphost"));
    expect(out.tasks[0].containers[1].runtimeId).toBe("kept-1");
    expect(out.tasks[1].containers[0].runtimeId).toStartWith("00000000d1a24bd3");
    expect(out.failures).toEqual([]);
    // Answers without tasks, or not JSON, pass through byte for byte.
    expect(addContainerRuntimeIds('{"tasks":[],"failures":[]}')).toBe('{"tasks":[],"failures":[]}');
    expect(addContainerRuntimeIds("<html>")).toBe("<html>");
  });
});

describe("through the gateway against moto", () => {
  let tg: TestGateway;
  const client = <T>(Client: new (c: object) => T) =>
    new Client({ endpoint: tg.gateway.url, region: tg.region, credentials: tg.credentials, maxAttempts: 1 });

  beforeAll(async () => {
    tg = await startTestGateway({ destination: { host: "127.0.0.1", port: 9 } });
  }, 60_000);
  afterAll(async () => {
    await tg?.stop();
  });

  test("setting the shutdown behaviour keeps the instance's security groups", async () => {
    const ec2 = client(EC2Client);
    const group = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "jump", Description: "jump host" }),
    );
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: "ami-12c6146b",
        InstanceType: "t3.micro",
        MinCount: 1,
        MaxCount: 1,
        SecurityGroupIds: [group.GroupId ?? ""],
      }),
    );
    const instanceId = run.Instances?.[0]?.InstanceId ?? "";
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: instanceId,
        InstanceInitiatedShutdownBehavior: { Value: "stop" },
      }),
    );
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const groups = described.Reservations?.[0]?.Instances?.[0]?.SecurityGroups?.map((g) => g.GroupId);
    expect(groups).toEqual([group.GroupId]);
    const behaviour = await ec2.send(
      new DescribeInstanceAttributeCommand({
        InstanceId: instanceId,
        Attribute: "instanceInitiatedShutdownBehavior",
      }),
    );
    expect(behaviour.InstanceInitiatedShutdownBehavior?.Value).toBe("stop");
    ec2.destroy();
  });

  test("a parameter set in a group reads back as a user parameter", async () => {
    const rds = client(RDSClient);
    await rds.send(
      new CreateDBParameterGroupCommand({
        DBParameterGroupName: "force-tls",
        DBParameterGroupFamily: "postgres15",
        Description: "forces TLS",
      }),
    );
    await rds.send(
      new ModifyDBParameterGroupCommand({
        DBParameterGroupName: "force-tls",
        Parameters: [{ ParameterName: "rds.force_ssl", ParameterValue: "1", ApplyMethod: "immediate" }],
      }),
    );
    const read = await rds.send(new DescribeDBParametersCommand({ DBParameterGroupName: "force-tls" }));
    const forceSsl = read.Parameters?.find((p) => p.ParameterName === "rds.force_ssl");
    expect(forceSsl).toMatchObject({ ParameterValue: "1", Source: "user" });
    rds.destroy();
  });

  test("ECS DescribeTasks shows each container's runtime id, the same on every call", async () => {
    const ecs = client(ECSClient);
    await ecs.send(new CreateClusterCommand({ clusterName: "compat-jump" }));
    await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: "compat-jump",
        containerDefinitions: [{ name: "jumphost", image: "busybox", cpu: 256, memory: 512 }],
      }),
    );
    const run = await ecs.send(
      new RunTaskCommand({
        cluster: "compat-jump",
        taskDefinition: "compat-jump",
        launchType: "FARGATE",
        count: 2,
      }),
    );
    const arns = (run.tasks ?? []).map((t) => t.taskArn ?? "");
    expect(arns).toHaveLength(2);
    const describe = async () =>
      (await ecs.send(new DescribeTasksCommand({ cluster: "compat-jump", tasks: arns }))).tasks ?? [];
    const first = await describe();
    expect(first).toHaveLength(2);
    for (const task of first) {
      const taskId = (task.taskArn ?? "").split("/").pop() ?? "";
      expect(task.containers?.[0]?.runtimeId).toBe(ecsRuntimeId(task.taskArn ?? "", "jumphost"));
      expect(task.containers?.[0]?.runtimeId).toMatch(new RegExp(`^${taskId.replaceAll("-", "")}-\\d{10}$`));
    }
    const again = await describe();
    expect(again.map((t) => t.containers?.[0]?.runtimeId)).toEqual(
      first.map((t) => t.containers?.[0]?.runtimeId),
    );
    ecs.destroy();
  });
});
