/**
 * The ECS corrections (ecs-corrections.ts: service scheduler, ECS Exec, ENI placement, filtered answers)
 * against a real moto through the gateway with the real SDK, shaped like the stack's Fargate jump host:
 * an awsvpc service with ECS Exec. Each test fails against plain moto 5.2.1 (no task for a service,
 * RunTask crash in a VPC without DNS hostnames, no managedAgents, no enableExecuteCommand /
 * availabilityZoneRebalancing, INACTIVE task definitions in the tagging API, ListTasks ignoring
 * serviceName, ENIs kept after the task stopped).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVpcAttributeCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DeleteServiceCommand,
  DeregisterTaskDefinitionCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  type Task,
  UpdateServiceCommand,
} from "@aws-sdk/client-ecs";
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { SSMClient, StartSessionCommand, TerminateSessionCommand } from "@aws-sdk/client-ssm";
import { partitionOfRegion } from "../../contract/partitions.ts";
import { startTestGateway, type TestGateway } from "../../test-support/sandbox/test-gateway.ts";
import type { SandboxCredentials } from "./types.ts";

let tg: TestGateway;
let ecs: ECSClient;
let ec2: EC2Client;
let subnetId: string;
let vpcId: string;
let groupId: string;
const CLUSTER = "sched-jump";

const config = (credentials: SandboxCredentials = tg.credentials) => ({
  endpoint: tg.gateway.url,
  region: tg.region,
  credentials,
  maxAttempts: 1,
});

/** The stack's kind of task definition: Fargate, awsvpc. */
async function registerAwsvpc(family: string): Promise<string> {
  const res = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: "256",
      memory: "512",
      containerDefinitions: [{ name: "jumphost", image: "busybox", command: ["sleep", "infinity"] }],
      tags: [{ key: "dbtunnel:stack", value: family }],
    }),
  );
  return res.taskDefinition?.taskDefinitionArn ?? "";
}

async function createService(name: string, enableExecuteCommand: boolean, taskDefinition: string) {
  return ecs.send(
    new CreateServiceCommand({
      cluster: CLUSTER,
      serviceName: name,
      taskDefinition,
      desiredCount: 1,
      launchType: "FARGATE",
      enableExecuteCommand,
      propagateTags: "SERVICE",
      tags: [{ key: "dbtunnel:role", value: "jump-host" }],
      networkConfiguration: {
        awsvpcConfiguration: { subnets: [subnetId], securityGroups: [groupId], assignPublicIp: "DISABLED" },
      },
    }),
  );
}

async function serviceTasks(service: string): Promise<Task[]> {
  const listed = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: service }));
  if ((listed.taskArns ?? []).length === 0) return [];
  return (
    (
      await ecs.send(
        new DescribeTasksCommand({ cluster: CLUSTER, tasks: listed.taskArns, include: ["TAGS"] }),
      )
    ).tasks ?? []
  );
}

async function startSession(target: string, credentials?: SandboxCredentials): Promise<string> {
  const ssm = new SSMClient(config(credentials));
  try {
    const res = await ssm.send(
      new StartSessionCommand({
        Target: target,
        DocumentName: "AWS-StartPortForwardingSessionToRemoteHost",
        Parameters: { host: ["db.internal"], portNumber: ["3306"], localPortNumber: ["0"] },
      }),
    );
    await ssm.send(new TerminateSessionCommand({ SessionId: res.SessionId }));
    return "started";
  } catch (error) {
    return (error as Error).name;
  } finally {
    ssm.destroy();
  }
}

const targetOf = (task: Task) =>
  `ecs:${CLUSTER}_${task.taskArn?.split("/").pop()}_${task.containers?.[0]?.runtimeId}`;

const eniOf = (task: Task) =>
  task.attachments?.[0]?.details?.find((d) => d.name === "networkInterfaceId")?.value ?? "";

beforeAll(async () => {
  tg = await startTestGateway({ destination: { host: "127.0.0.1", port: 9 } });
  ecs = new ECSClient(config());
  ec2 = new EC2Client(config());
  // Like a VPC whose DNS hostnames are off: moto's awsvpc RunTask crashes in it.
  vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.42.0.0/16" }))).Vpc?.VpcId ?? "";
  subnetId =
    (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.42.1.0/24" }))).Subnet?.SubnetId ??
    "";
  groupId =
    (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "jump", Description: "jump", VpcId: vpcId })))
      .GroupId ?? "";
  await ecs.send(
    new CreateClusterCommand({ clusterName: CLUSTER, tags: [{ key: "dbtunnel:stack", value: "sched" }] }),
  );
}, 60_000);

afterAll(async () => {
  ecs?.destroy();
  ec2?.destroy();
  await tg?.stop();
});

describe("an ECS service with ECS Exec, like the stack's jump host", () => {
  let taskDefinition: string;
  let task: Task;

  beforeAll(async () => {
    taskDefinition = await registerAwsvpc("sched-jump");
    await createService("jump", true, taskDefinition);
    task = (await serviceTasks("jump"))[0] as Task;
  });

  test("desiredCount 1 runs one task of the service in its subnet, with the service's tags", async () => {
    const tasks = await serviceTasks("jump");
    expect(tasks).toHaveLength(1);
    expect(task).toMatchObject({
      lastStatus: "RUNNING",
      group: "service:jump",
      taskDefinitionArn: taskDefinition,
      launchType: "FARGATE",
      enableExecuteCommand: true,
    });
    expect(task.startedBy).toStartWith("ecs-svc/");
    expect(task.tags).toContainEqual({ key: "dbtunnel:role", value: "jump-host" });
    const details = Object.fromEntries((task.attachments?.[0]?.details ?? []).map((d) => [d.name, d.value]));
    expect(details.subnetId).toBe(subnetId);
    // An address of the subnet (moto alone: a random 10.x.y.z), past the four AWS reserves.
    expect(details.privateIPv4Address).toMatch(/^10\.42\.1\.\d+$/);
    expect(Number(details.privateIPv4Address?.split(".")[3])).toBeGreaterThanOrEqual(4);
    const eni = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniOf(task)] }));
    expect(eni.NetworkInterfaces?.[0]).toMatchObject({
      PrivateIpAddress: details.privateIPv4Address,
      SubnetId: subnetId,
      MacAddress: details.macAddress,
    });
    expect(eni.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).toEqual([groupId]);
    // The task's is the only ENI in the subnet: moto's own random-address one is gone.
    const inSubnet = await ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "subnet-id", Values: [subnetId] }] }),
    );
    expect(inSubnet.NetworkInterfaces?.map((n) => n.NetworkInterfaceId)).toEqual([eniOf(task)]);
    // The VPC's own setting is as it was.
    const dns = await ec2.send(
      new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: "enableDnsHostnames" }),
    );
    expect(dns.EnableDnsHostnames?.Value).toBe(false);
  });

  test("the task's container has a runtime id and a RUNNING ExecuteCommandAgent", () => {
    const container = task.containers?.[0];
    expect(container?.runtimeId).toMatch(/^[0-9a-f]{32}-\d{10}$/);
    expect(container?.managedAgents).toEqual([
      expect.objectContaining({ name: "ExecuteCommandAgent", lastStatus: "RUNNING" }),
    ]);
    expect(container?.managedAgents?.[0]?.lastStartedAt).toBeInstanceOf(Date);
  });

  test("DescribeServices answers what was asked for and the task that runs (a clean second plan)", async () => {
    const res = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["jump"] }));
    expect(res.services?.[0]).toMatchObject({
      enableExecuteCommand: true,
      availabilityZoneRebalancing: "ENABLED",
      desiredCount: 1,
      runningCount: 1,
      pendingCount: 0,
    });
  });

  test("the running task is a Session Manager target", async () => {
    expect(await startSession(targetOf(task))).toBe("started");
  });

  test("ListTasks with serviceName lists only that service's tasks", async () => {
    const other = await registerAwsvpc("sched-other");
    await createService("other", true, other);
    const jump = await ecs.send(new ListTasksCommand({ cluster: CLUSTER, serviceName: "jump" }));
    expect(jump.taskArns).toEqual([task.taskArn ?? ""]);
    const all = await ecs.send(new ListTasksCommand({ cluster: CLUSTER }));
    expect(all.taskArns?.length).toBeGreaterThanOrEqual(2);
    await ecs.send(new DeleteServiceCommand({ cluster: CLUSTER, service: "other", force: true }));
    expect(await serviceTasks("other")).toEqual([]);
  });

  test("scaling in stops the task and deletes its ENI; the target is no longer connected", async () => {
    const stopping = (await serviceTasks("jump"))[0] as Task;
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "jump", desiredCount: 0 }));
    expect(await serviceTasks("jump")).toEqual([]);
    const described = await ecs.send(
      new DescribeTasksCommand({ cluster: CLUSTER, tasks: [stopping.taskArn ?? ""] }),
    );
    expect(described.tasks?.[0]?.lastStatus).toBe("STOPPED");
    expect(described.tasks?.[0]?.containers?.[0]?.managedAgents?.[0]?.lastStatus).toBe("STOPPED");
    const enis = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: "network-interface-id", Values: [eniOf(stopping)] }],
      }),
    );
    expect(enis.NetworkInterfaces).toEqual([]);
    expect(await startSession(targetOf(stopping))).toBe("TargetNotConnected");
    // Scaled out again: a new task, and the update keeps ECS Exec on.
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "jump", desiredCount: 1 }));
    const [fresh] = await serviceTasks("jump");
    expect(fresh?.taskArn).not.toBe(stopping.taskArn);
    expect(fresh?.enableExecuteCommand).toBe(true);
    expect(await startSession(targetOf(fresh as Task))).toBe("started");
  });

  test("a new task definition replaces the task", async () => {
    const [before] = await serviceTasks("jump");
    const next = await registerAwsvpc("sched-jump");
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: "jump", taskDefinition: next }));
    const after = await serviceTasks("jump");
    expect(after).toHaveLength(1);
    expect(after[0]?.taskDefinitionArn).toBe(next);
    expect(after[0]?.taskArn).not.toBe(before?.taskArn);
  });
});

test("without ECS Exec there is no agent: no managedAgents, TargetNotConnected", async () => {
  const definition = await registerAwsvpc("sched-noexec");
  await createService("noexec", false, definition);
  const [task] = await serviceTasks("noexec");
  expect(task?.enableExecuteCommand).toBe(false);
  expect(task?.containers?.[0]?.managedAgents ?? []).toEqual([]);
  expect(await startSession(targetOf(task as Task))).toBe("TargetNotConnected");
  const res = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: ["noexec"] }));
  expect(res.services?.[0]?.enableExecuteCommand).toBe(false);
});

test("RunTask of an awsvpc task definition in a VPC without DNS hostnames runs the task", async () => {
  const definition = await registerAwsvpc("sched-runtask");
  const run = await ecs.send(
    new RunTaskCommand({
      cluster: CLUSTER,
      taskDefinition: definition,
      launchType: "FARGATE",
      enableExecuteCommand: true,
      networkConfiguration: { awsvpcConfiguration: { subnets: [subnetId], securityGroups: [groupId] } },
    }),
  );
  const task = run.tasks?.[0];
  expect(task?.lastStatus).toBe("RUNNING");
  expect(task?.enableExecuteCommand).toBe(true);
  const details = Object.fromEntries((task?.attachments?.[0]?.details ?? []).map((d) => [d.name, d.value]));
  expect(details.privateDnsName).toMatch(/^ip-/);
  const described = await ecs.send(
    new DescribeTasksCommand({ cluster: CLUSTER, tasks: [task?.taskArn ?? ""] }),
  );
  expect(await startSession(targetOf(described.tasks?.[0] as Task))).toBe("started");
});

test("a deregistered task definition is gone from the tagging API", async () => {
  const definition = await registerAwsvpc("sched-gone");
  const tagging = new ResourceGroupsTaggingAPIClient(config());
  const tagged = async () =>
    (
      await tagging.send(
        new GetResourcesCommand({ TagFilters: [{ Key: "dbtunnel:stack", Values: ["sched-gone"] }] }),
      )
    ).ResourceTagMappingList?.map((m) => m.ResourceARN) ?? [];
  expect(await tagged()).toEqual([definition]);
  await ecs.send(new DeregisterTaskDefinitionCommand({ taskDefinition: definition }));
  expect(await tagged()).toEqual([]);
  tagging.destroy();
});

test("IAM on StartSession for an ECS target: the task ARN of the allowed cluster, like AWS", async () => {
  const definition = await registerAwsvpc("sched-iam");
  await createService("iam", true, definition);
  const [task] = await serviceTasks("iam");
  const iam = new IAMClient(config());
  const region = tg.region;
  const partition = partitionOfRegion(region);
  const allow = (cluster: string) =>
    JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: "ssm:StartSession",
          Resource: [
            `arn:${partition}:ecs:${region}:123456789012:task/${cluster}/*`,
            `arn:${partition}:ssm:${region}::document/AWS-StartPortForwardingSessionToRemoteHost`,
          ],
        },
        { Effect: "Allow", Action: "ssm:TerminateSession", Resource: "*" },
      ],
    });
  const engineer = async (name: string, cluster: string): Promise<SandboxCredentials> => {
    await iam.send(new CreateUserCommand({ UserName: name }));
    const policy = await iam.send(
      new CreatePolicyCommand({ PolicyName: name, PolicyDocument: allow(cluster) }),
    );
    await iam.send(new AttachUserPolicyCommand({ UserName: name, PolicyArn: policy.Policy?.Arn }));
    const key = (await iam.send(new CreateAccessKeyCommand({ UserName: name }))).AccessKey;
    return { accessKeyId: key?.AccessKeyId ?? "", secretAccessKey: key?.SecretAccessKey ?? "" };
  };
  expect(await startSession(targetOf(task as Task), await engineer("ecs-engineer", CLUSTER))).toBe("started");
  expect(await startSession(targetOf(task as Task), await engineer("other-engineer", "other-cluster"))).toBe(
    "AccessDeniedException",
  );
  iam.destroy();
});
