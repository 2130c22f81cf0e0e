/**
 * The ECS service scheduler moto 5.2.1 lacks: moto records a service's `desiredCount` but never starts a
 * task for it, so the stack's ECS jump host would not exist. After CreateService / UpdateService /
 * DeleteService a pass runs tasks of the service's task definition with its network configuration until
 * `desiredCount` are RUNNING (group `service:<name>`, `startedBy` the deployment id, the service's or
 * the definition's tags as `propagateTags` says), replaces them when the task definition changes or a new
 * deployment is forced, and stops them when the service is scaled in or deleted. Like AWS's, it acts on
 * the service calls only: a task stopped by hand is not replaced until the service is next updated.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  ListTagsForResourceCommand,
  ListTasksCommand,
  RunTaskCommand,
  type Service,
  StopTaskCommand,
  type Task,
} from "@aws-sdk/client-ecs";
import type { EcsExecState } from "./ecs-exec-state.ts";
import { type Json, subnetOf } from "./ecs-json.ts";
import type { EcsServiceSettings } from "./ecs-service-settings.ts";
import type { TaskEniPlacement } from "./task-eni-placement.ts";
import { withDnsHostnames } from "./vpc-dns-hostnames.ts";

export class EcsServiceScheduler {
  constructor(
    private readonly ecs: ECSClient,
    private readonly ec2: EC2Client,
    private readonly settings: EcsServiceSettings,
    private readonly exec: EcsExecState,
    private readonly enis: TaskEniPlacement,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * One pass over a service: desired count of tasks of the current definition, no more. The caller runs
   * one pass at a time (two UpdateService calls must not both start the missing task).
   */
  async schedule(serviceArn: string, forceNewDeployment: boolean): Promise<void> {
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

  /** The service's tasks that have not stopped (moto's group `service:<name>`). */
  async serviceTasks(cluster: string, serviceName: string): Promise<Task[]> {
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

  private async startTasks(service: Service, count: number): Promise<void> {
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
      enableExecuteCommand: this.settings.of(service.serviceArn ?? "").enableExecuteCommand,
      ...(service.networkConfiguration ? { networkConfiguration: service.networkConfiguration } : {}),
      ...(service.platformVersion ? { platformVersion: service.platformVersion } : {}),
      ...(tags.length > 0 ? { tags } : {}),
    };
    const subnet = subnetOf(service.networkConfiguration);
    const started = subnet
      ? await withDnsHostnames(this.ec2, subnet, () => this.runTask(request))
      : await this.runTask(request);
    this.log(`ECS scheduler: started ${started} task(s) for ${service.serviceName}`);
  }

  /** moto's RunTask for the scheduler, with ECS Exec and ENI as for a caller's RunTask; how many started. */
  private async runTask(request: Json): Promise<number> {
    const answer = await this.ecs.send(
      new RunTaskCommand(request as unknown as ConstructorParameters<typeof RunTaskCommand>[0]),
    );
    const tasks = answer.tasks ?? [];
    this.exec.remember(request, tasks);
    await this.enis.place(tasks);
    return tasks.length;
  }

  /** Stops a task as the scheduler does, ENI included. */
  private async stopTask(clusterArn: string, task: Task, reason: string): Promise<void> {
    if (!task.taskArn) return;
    await this.ecs.send(new StopTaskCommand({ cluster: clusterArn, task: task.taskArn, reason }));
    await this.enis.release(task);
  }
}

/** `arn:<p>:ecs:<r>:<a>:service/<cluster>/<name>` → `<cluster>` (the long ARN format moto uses). */
function clusterOfServiceArn(arn: string): string {
  const parts = arn.split(":").pop()?.split("/") ?? [];
  return parts.length >= 3 ? (parts[1] ?? "default") : "default";
}
