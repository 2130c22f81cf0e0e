/**
 * The ECS service scheduler and ECS Exec that moto 5.2.1 lacks (README "moto corrections"):
 * - moto records a service's `desiredCount` but never starts a task for it. The gateway does what the
 *   scheduler does after CreateService / UpdateService / DeleteService: it runs tasks of the service's
 *   task definition with its network configuration until `desiredCount` are RUNNING (group
 *   `service:<name>`, `startedBy` the deployment id, the service's tags when `propagateTags` is SERVICE),
 *   replaces them when the task definition changes or a new deployment is forced, and stops them when the
 *   service is scaled in or deleted.
 * - An awsvpc task's ENI gets a random `10.x.y.z` address, mostly outside its subnet; a stopped task's ENI
 *   stays. The gateway gives the task an ENI with an address of its subnet and deletes it when the task
 *   stops, as AWS does.
 * - moto answers `enableExecuteCommand` / `availabilityZoneRebalancing` nowhere (Terraform then plans a
 *   change on every run) and no `managedAgents` (no ExecuteCommandAgent: no ECS Exec). The gateway keeps
 *   what the caller asked for and adds it to the answers, with the ExecuteCommandAgent RUNNING on every
 *   container of a running task that has ECS Exec on.
 * - `runningCount` / `pendingCount` of a service are moto's environment defaults (0); the gateway reports
 *   the tasks that run.
 * - ListTasks ignores `serviceName`, lists stopped tasks when no `desiredStatus` is given (AWS: RUNNING)
 *   and matches the cluster name as a substring of the task's cluster ARN.
 * What the gateway remembers lives as long as the gateway (the sandbox's moto lives no longer).
 */
import {
  CreateNetworkInterfaceCommand,
  DeleteNetworkInterfaceCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
} from "@aws-sdk/client-ec2";
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTagsForResourceCommand,
  ListTasksCommand,
  type NetworkConfiguration,
  RunTaskCommand,
  type Service,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import { isRecord } from "../../contract/values.ts";
import { parseJson } from "./moto-compat.ts";
import type { SandboxCredentials } from "./types.ts";

/** `X-Amz-Target` prefix of ECS (AWS JSON 1.1). */
export const ECS_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113.";
/** `X-Amz-Target` of the Resource Groups Tagging API's GetResources. */
export const TAGGING_GET_RESOURCES = "ResourceGroupsTaggingAPI_20170126.GetResources";

/** What CreateService / UpdateService set that moto forgets. */
interface ServiceSettings {
  enableExecuteCommand: boolean;
  availabilityZoneRebalancing: string;
}

/** The ENI that stands in for moto's in an awsvpc task (see `placeEnis`). */
interface PlacedEni {
  readonly id: string;
  readonly ip: string;
  readonly mac: string;
  readonly dns: string;
}

/** What ECS Exec needs to know about a task moto does not keep. */
interface ExecState {
  readonly enableExecuteCommand: boolean;
  readonly startedAt: Date;
}

type Json = Record<string, unknown>;

/** Rewrites moto's successful answer (text) to what AWS answers; may call moto first. */
export type AsyncRewrite = (answer: string) => Promise<string>;

export class EcsScheduler {
  private readonly ecs: ECSClient;
  private readonly ec2: EC2Client;
  private readonly services = new Map<string, ServiceSettings>();
  private readonly tasks = new Map<string, ExecState>();
  /** By task ARN. */
  private readonly enis = new Map<string, PlacedEni>();
  /** One scheduler pass at a time: two UpdateService calls must not both start the missing task. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    motoUrl: string,
    region: string,
    credentials: SandboxCredentials,
    private readonly log: (line: string) => void = () => {},
  ) {
    const config = { endpoint: motoUrl, region, credentials, maxAttempts: 1 };
    this.ecs = new ECSClient(config);
    this.ec2 = new EC2Client(config);
  }

  /**
   * Sends the call on to moto (`forward`), around it what moto needs: an awsvpc RunTask runs with the
   * VPC's DNS hostnames on (see `withDnsHostnames`), serialized with the scheduler's own passes.
   */
  async forward(
    amzTarget: string | null,
    request: Json,
    forward: () => Promise<Response>,
  ): Promise<Response> {
    if (amzTarget !== `${ECS_TARGET_PREFIX}RunTask`) return forward();
    const subnet = subnetOf(request.networkConfiguration);
    if (!subnet) return forward();
    return this.serial(() => this.withDnsHostnames(subnet, forward));
  }

  /** Whether this call is one the scheduler looks at (its request body is then read as JSON). */
  concerns(amzTarget: string | null): boolean {
    return amzTarget === TAGGING_GET_RESOURCES || amzTarget?.startsWith(ECS_TARGET_PREFIX) === true;
  }

  /** The correction moto's answer to this call needs, or undefined. */
  rewriteFor(amzTarget: string | null, request: Json): AsyncRewrite | undefined {
    if (amzTarget === TAGGING_GET_RESOURCES) return (answer) => this.hideInactiveTaskDefinitions(answer);
    if (!amzTarget?.startsWith(ECS_TARGET_PREFIX)) return undefined;
    switch (amzTarget.slice(ECS_TARGET_PREFIX.length)) {
      case "CreateService":
      case "UpdateService":
      case "DeleteService":
        return (answer) => this.afterServiceChange(request, answer);
      case "DescribeServices":
        return (answer) => this.describeServices(answer);
      case "RunTask":
        return (answer) => this.afterRunTask(request, answer);
      case "StartTask":
        return (answer) => this.afterRunTask(request, answer);
      case "DescribeTasks":
        return async (answer) =>
          rewriteJson(answer, (a) => {
            this.showPlacedEnis(a.tasks);
            this.addExecFields(a.tasks);
          });
      case "StopTask":
        return (answer) => this.afterStopTask(answer);
      case "ListTasks":
        return (answer) => this.correctListTasks(request, answer);
      default:
        return undefined;
    }
  }

  /** ECS Exec on for this task (RunTask's or its service's `enableExecuteCommand`). */
  execEnabled(taskArn: string): boolean {
    return this.tasks.get(taskArn)?.enableExecuteCommand === true;
  }

  close(): void {
    this.ecs.destroy();
    this.ec2.destroy();
  }

  private async afterServiceChange(request: Json, answer: string): Promise<string> {
    const parsed = parseJsonObject(answer);
    const service = parsed?.service;
    if (!isRecord(service) || typeof service.serviceArn !== "string") return answer;
    const arn = service.serviceArn;
    const known = this.services.get(arn);
    const settings: ServiceSettings = {
      enableExecuteCommand:
        typeof request.enableExecuteCommand === "boolean"
          ? request.enableExecuteCommand
          : (known?.enableExecuteCommand ?? false),
      // AWS: ENABLED when a create leaves it out; an update without it keeps the service's value.
      availabilityZoneRebalancing:
        typeof request.availabilityZoneRebalancing === "string"
          ? request.availabilityZoneRebalancing
          : (known?.availabilityZoneRebalancing ?? "ENABLED"),
    };
    this.services.set(arn, settings);
    await this.serial(() => this.schedule(arn, request.forceNewDeployment === true));
    return JSON.stringify({ ...parsed, service: await this.completeService(service) });
  }

  private async describeServices(answer: string): Promise<string> {
    const parsed = parseJsonObject(answer);
    if (!parsed || !Array.isArray(parsed.services)) return answer;
    const services = [];
    for (const service of parsed.services) {
      services.push(isRecord(service) ? await this.completeService(service) : service);
    }
    return JSON.stringify({ ...parsed, services });
  }

  /** A service as AWS shows it: the settings moto forgot and the tasks that really run. */
  private async completeService(service: Json): Promise<Json> {
    const arn = typeof service.serviceArn === "string" ? service.serviceArn : "";
    const settings = this.services.get(arn) ?? {
      enableExecuteCommand: false,
      availabilityZoneRebalancing: "DISABLED",
    };
    const out: Json = { ...service, ...settings };
    const cluster = typeof service.clusterArn === "string" ? service.clusterArn : "";
    const name = typeof service.serviceName === "string" ? service.serviceName : "";
    if (cluster && name) {
      const running = (await this.serviceTasks(cluster, name)).length;
      out.runningCount = running;
      out.pendingCount = 0;
      if (Array.isArray(service.deployments)) {
        out.deployments = service.deployments.map((d: unknown) =>
          isRecord(d) && d.status === "PRIMARY"
            ? {
                ...d,
                runningCount: running,
                pendingCount: 0,
                rolloutState: running >= Number(d.desiredCount ?? 0) ? "COMPLETED" : "IN_PROGRESS",
              }
            : d,
        );
      }
    }
    return out;
  }

  /** The scheduler's pass over one service: desired count of tasks of the current definition, no more. */
  private async schedule(serviceArn: string, forceNewDeployment: boolean): Promise<void> {
    const cluster = clusterOfServiceArn(serviceArn);
    const described = await this.ecs.send(new DescribeServicesCommand({ cluster, services: [serviceArn] }));
    const service = described.services?.[0];
    if (!service?.serviceName || !service.clusterArn) return;
    const tasks = await this.serviceTasks(service.clusterArn, service.serviceName);
    const active = service.status === "ACTIVE";
    const current = tasks.filter(
      (t) => active && !forceNewDeployment && t.taskDefinitionArn === service.taskDefinition,
    );
    const stale = tasks.filter((t) => !current.includes(t));
    const desired = active ? (service.desiredCount ?? 0) : 0;
    const excess = current.slice(desired);
    for (const task of [...stale, ...excess]) {
      await this.stopTask(
        service.clusterArn,
        task,
        active ? "Scaling activity initiated by deployment" : "Service deleted",
      );
    }
    const missing = desired - (current.length - excess.length);
    if (missing > 0 && service.taskDefinition) await this.startTasks(service, missing);
  }

  private async startTasks(service: Service, count: number): Promise<void> {
    const settings = this.services.get(service.serviceArn ?? "");
    let tags: { key?: string; value?: string }[] = [];
    if (service.propagateTags === "SERVICE" && service.serviceArn) {
      tags =
        (await this.ecs.send(new ListTagsForResourceCommand({ resourceArn: service.serviceArn }))).tags ?? [];
    } else if (service.propagateTags === "TASK_DEFINITION" && service.taskDefinition) {
      const definition = await this.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: service.taskDefinition, include: ["TAGS"] }),
      );
      tags = definition.tags ?? [];
    }
    const request: Json = {
      cluster: service.clusterArn,
      taskDefinition: service.taskDefinition,
      count,
      launchType: service.launchType ?? "FARGATE",
      group: `service:${service.serviceName}`,
      startedBy: service.deployments?.find((d) => d.status === "PRIMARY")?.id ?? "ecs-svc",
      enableExecuteCommand: settings?.enableExecuteCommand ?? false,
      ...(service.networkConfiguration ? { networkConfiguration: service.networkConfiguration } : {}),
      ...(service.platformVersion ? { platformVersion: service.platformVersion } : {}),
      ...(tags.length > 0 ? { tags } : {}),
    };
    const subnet = subnetOf(service.networkConfiguration);
    const answer = subnet
      ? await this.withDnsHostnames(subnet, () => this.runTask(request))
      : await this.runTask(request);
    const started = Array.isArray(answer.tasks) ? answer.tasks.length : 0;
    this.log(`ECS scheduler: started ${started} task(s) for ${service.serviceName}`);
  }

  /** moto's RunTask for the scheduler, recording ECS Exec per task. */
  private async runTask(request: Json): Promise<Json> {
    const answer = await this.ecs.send(
      new RunTaskCommand(request as unknown as ConstructorParameters<typeof RunTaskCommand>[0]),
    );
    const tasks = answer.tasks ?? [];
    this.remember(request, tasks);
    await this.placeEnis(tasks);
    return { tasks: tasks.map((t) => ({ taskArn: t.taskArn })) };
  }

  private async afterRunTask(request: Json, answer: string): Promise<string> {
    const parsed = parseJsonObject(answer);
    if (!parsed) return answer;
    this.remember(request, parsed.tasks);
    await this.placeEnis(parsed.tasks);
    this.addExecFields(parsed.tasks);
    return JSON.stringify(parsed);
  }

  /**
   * moto gives an awsvpc task's ENI a random `10.x.y.z` address, mostly outside the task's subnet; AWS
   * takes one from the subnet. An ENI in the subnet with the same security groups (a free address past
   * the subnet's four reserved ones) replaces moto's, and every answer shows it.
   */
  private async placeEnis(tasks: unknown): Promise<void> {
    if (!Array.isArray(tasks)) return;
    for (const task of tasks) {
      if (!isRecord(task) || typeof task.taskArn !== "string" || this.enis.has(task.taskArn)) continue;
      const attachment = eniAttachment(task);
      const details = attachmentDetails(attachment);
      const motoEni = details.networkInterfaceId;
      if (!attachment || !details.subnetId || !motoEni) continue;
      const [original, subnet] = await Promise.all([
        this.ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [motoEni] })),
        this.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [details.subnetId] })),
      ]);
      const cidr = subnet.Subnets?.[0]?.CidrBlock;
      const address = cidr ? await this.freeAddress(details.subnetId, cidr) : undefined;
      const created = await this.ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: details.subnetId,
          Groups: (original.NetworkInterfaces?.[0]?.Groups ?? []).flatMap((g) =>
            g.GroupId ? [g.GroupId] : [],
          ),
          Description: `ECS task ${task.taskArn} attachment ${String(attachment.id ?? "")}`,
          ...(address ? { PrivateIpAddress: address } : {}),
        }),
      );
      const eni = created.NetworkInterface;
      if (!eni?.NetworkInterfaceId || !eni.PrivateIpAddress) continue;
      this.enis.set(task.taskArn, {
        id: eni.NetworkInterfaceId,
        ip: eni.PrivateIpAddress,
        mac: eni.MacAddress ?? "",
        dns: eni.PrivateDnsName || `ip-${eni.PrivateIpAddress.replaceAll(".", "-")}.ec2.internal`,
      });
      await this.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: motoEni }));
      this.showPlacedEnis([task]);
    }
  }

  /** A random address of the subnet that no ENI holds: not the network's first four nor its last. */
  private async freeAddress(subnetId: string, cidr: string): Promise<string | undefined> {
    const [base = "", bits = "32"] = cidr.split("/");
    const start = base.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
    const size = 2 ** (32 - Number(bits));
    if (!Number.isInteger(start) || size < 8) return undefined;
    const used = await this.ec2.send(
      new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "subnet-id", Values: [subnetId] }] }),
    );
    const taken = new Set((used.NetworkInterfaces ?? []).map((n) => n.PrivateIpAddress));
    for (let attempt = 0; attempt < 64; attempt++) {
      const n = start + 4 + Math.floor(Math.random() * (size - 5));
      const address = [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
      if (!taken.has(address)) return address;
    }
    return undefined;
  }

  /** The placed ENI in the tasks' attachment details, where moto names its own. */
  private showPlacedEnis(tasks: unknown): void {
    if (!Array.isArray(tasks)) return;
    for (const task of tasks) {
      if (!isRecord(task) || typeof task.taskArn !== "string") continue;
      const eni = this.enis.get(task.taskArn);
      const details = eniAttachment(task)?.details;
      if (!eni || !Array.isArray(details)) continue;
      const values: Record<string, string> = {
        networkInterfaceId: eni.id,
        privateIPv4Address: eni.ip,
        macAddress: eni.mac,
        privateDnsName: eni.dns,
      };
      for (const detail of details) {
        if (isRecord(detail) && typeof detail.name === "string" && values[detail.name] !== undefined)
          detail.value = values[detail.name];
      }
    }
  }

  private remember(request: Json, tasks: unknown): void {
    if (!Array.isArray(tasks)) return;
    for (const task of tasks) {
      if (!isRecord(task) || typeof task.taskArn !== "string") continue;
      this.tasks.set(task.taskArn, {
        enableExecuteCommand: request.enableExecuteCommand === true,
        startedAt: new Date(),
      });
    }
  }

  /** `enableExecuteCommand` on each task and the ExecuteCommandAgent on each container where it is on. */
  private addExecFields(tasks: unknown): void {
    if (!Array.isArray(tasks)) return;
    for (const task of tasks) {
      if (!isRecord(task) || typeof task.taskArn !== "string") continue;
      const state = this.tasks.get(task.taskArn);
      task.enableExecuteCommand = state?.enableExecuteCommand === true;
      if (!state?.enableExecuteCommand || !Array.isArray(task.containers)) continue;
      const agentStatus = task.lastStatus === "RUNNING" ? "RUNNING" : "STOPPED";
      for (const container of task.containers) {
        if (!isRecord(container) || Array.isArray(container.managedAgents)) continue;
        container.managedAgents = [
          {
            name: "ExecuteCommandAgent",
            lastStatus: agentStatus,
            // JSON 1.1 timestamps are epoch seconds.
            lastStartedAt: state.startedAt.getTime() / 1000,
          },
        ];
      }
    }
  }

  private async afterStopTask(answer: string): Promise<string> {
    const parsed = parseJsonObject(answer);
    if (!isRecord(parsed?.task)) return answer;
    await this.releaseEni(parsed.task as Task);
    this.showPlacedEnis([parsed.task]);
    this.addExecFields([parsed.task]);
    return JSON.stringify(parsed);
  }

  /** Stops a task as the scheduler does, ENI included. */
  private async stopTask(clusterArn: string, task: Task, reason: string): Promise<void> {
    if (!task.taskArn) return;
    await this.ecs.send(new StopTaskCommand({ cluster: clusterArn, task: task.taskArn, reason }));
    await this.releaseEni(task);
  }

  /** AWS deletes an awsvpc task's ENI once the task has stopped; moto keeps it (and its security group). */
  private async releaseEni(task: Task): Promise<void> {
    const placed = task.taskArn ? this.enis.get(task.taskArn)?.id : undefined;
    const motoEni = attachmentDetails(eniAttachment(task as Json)).networkInterfaceId;
    for (const eni of [placed, motoEni]) {
      if (!eni) continue;
      await this.ec2
        .send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni }))
        .catch((error: Error) => {
          // Already gone (a second StopTask): nothing to release.
          if (!/InvalidNetworkInterfaceID/.test(error.name)) throw error;
        });
    }
  }

  /** The service's tasks that have not stopped (moto's group `service:<name>`). */
  private async serviceTasks(cluster: string, serviceName: string): Promise<Task[]> {
    const listed = await this.ecs.send(new ListTasksCommand({ cluster, desiredStatus: "RUNNING" }));
    const arns = listed.taskArns ?? [];
    if (arns.length === 0) return [];
    const described = await this.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }));
    const clusterName = cluster.split("/").pop();
    return (described.tasks ?? []).filter(
      (t) =>
        t.group === `service:${serviceName}` &&
        t.lastStatus !== "STOPPED" &&
        t.clusterArn?.split("/").pop() === clusterName,
    );
  }

  /**
   * ListTasks as AWS filters it: only tasks of exactly this cluster (moto matches the name as a substring
   * of the ARN), of this service (moto ignores `serviceName`), with this desired status (RUNNING when
   * left out; moto then lists stopped tasks too).
   */
  private async correctListTasks(request: Json, answer: string): Promise<string> {
    const parsed = parseJsonObject(answer);
    if (!parsed || !Array.isArray(parsed.taskArns) || parsed.taskArns.length === 0) return answer;
    const cluster = typeof request.cluster === "string" ? request.cluster : "default";
    const clusterName = cluster.split("/").pop();
    const desiredStatus = typeof request.desiredStatus === "string" ? request.desiredStatus : "RUNNING";
    const service =
      typeof request.serviceName === "string" ? request.serviceName.split("/").pop() : undefined;
    const arns = parsed.taskArns.filter((a): a is string => typeof a === "string");
    const kept = new Set<string>();
    for (let i = 0; i < arns.length; i += 100) {
      const described = await this.ecs.send(
        new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }),
      );
      for (const task of described.tasks ?? []) {
        if (task.clusterArn?.split("/").pop() !== clusterName) continue;
        if (task.desiredStatus !== desiredStatus) continue;
        if (service !== undefined && task.group !== `service:${service}`) continue;
        if (task.taskArn) kept.add(task.taskArn);
      }
    }
    const taskArns = arns.filter((arn) => kept.has(arn));
    return taskArns.length === arns.length ? answer : JSON.stringify({ ...parsed, taskArns });
  }

  /**
   * A deregistered (INACTIVE) task definition is gone for the tagging API, as for the console; moto keeps
   * listing it, so a destroyed stack would still show its task definitions.
   */
  private async hideInactiveTaskDefinitions(answer: string): Promise<string> {
    const parsed = parseJsonObject(answer);
    const list = parsed?.ResourceTagMappingList;
    if (!parsed || !Array.isArray(list)) return answer;
    const kept = [];
    for (const mapping of list) {
      const arn = isRecord(mapping) && typeof mapping.ResourceARN === "string" ? mapping.ResourceARN : "";
      if (arn.includes(":task-definition/") && (await this.taskDefinitionStatus(arn)) !== "ACTIVE") continue;
      kept.push(mapping);
    }
    return kept.length === list.length ? answer : JSON.stringify({ ...parsed, ResourceTagMappingList: kept });
  }

  private async taskDefinitionStatus(arn: string): Promise<string> {
    try {
      const res = await this.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
      return res.taskDefinition?.status ?? "INACTIVE";
    } catch {
      return "INACTIVE";
    }
  }

  /**
   * moto's awsvpc task ENI reads `private_dns_name`, which moto sets only in a VPC with DNS hostnames on,
   * and crashes otherwise; a real task's ENI always has its `ip-…` name. The VPC's attribute is switched
   * on for the call and back (calls are serialized) so the task starts as it would in AWS.
   */
  private async withDnsHostnames<T>(subnetId: string, run: () => Promise<T>): Promise<T> {
    const subnets = await this.ec2
      .send(new DescribeSubnetsCommand({ SubnetIds: [subnetId] }))
      .catch(() => undefined);
    const vpcId = subnets?.Subnets?.[0]?.VpcId;
    if (!vpcId) return run();
    const attribute = await this.ec2.send(
      new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: "enableDnsHostnames" }),
    );
    if (attribute.EnableDnsHostnames?.Value === true) return run();
    await this.ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
    try {
      return await run();
    } finally {
      await this.ec2.send(
        new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: false } }),
      );
    }
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }
}

/** A task's ElasticNetworkInterface attachment (JSON answer or SDK object alike). */
function eniAttachment(task: Json): Json | undefined {
  const attachments = Array.isArray(task.attachments) ? task.attachments : [];
  return attachments.find((a): a is Json => isRecord(a) && a.type === "ElasticNetworkInterface");
}

function attachmentDetails(attachment: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of Array.isArray(attachment?.details) ? attachment.details : []) {
    if (isRecord(d) && typeof d.name === "string" && typeof d.value === "string") out[d.name] = d.value;
  }
  return out;
}

/** The first subnet of an awsvpc network configuration (where moto puts the task's ENI). */
function subnetOf(config: unknown): string | undefined {
  const awsvpc = isRecord(config) ? (config as NetworkConfiguration).awsvpcConfiguration : undefined;
  const subnet = awsvpc?.subnets?.[0];
  return typeof subnet === "string" && subnet !== "" ? subnet : undefined;
}

/** `arn:<p>:ecs:<r>:<a>:service/<cluster>/<name>` → `<cluster>` (the long ARN format moto uses). */
function clusterOfServiceArn(arn: string): string {
  const parts = arn.split(":").pop()?.split("/") ?? [];
  return parts.length >= 3 ? (parts[1] ?? "default") : "default";
}

function parseJsonObject(text: string): Json | undefined {
  const value = parseJson(text);
  return isRecord(value) ? value : undefined;
}

async function rewriteJson(text: string, edit: (parsed: Json) => void): Promise<string> {
  const parsed = parseJsonObject(text);
  if (!parsed) return text;
  edit(parsed);
  return JSON.stringify(parsed);
}
