/**
 * Where the gateway's ECS corrections meet (README "moto corrections"): for each ECS or tagging call
 * proxied to moto, which correction its answer needs and what must happen around the call. Each
 * correction has its own file:
 * - ecs-service-scheduler.ts: runs, replaces and stops a service's tasks (moto never does);
 * - ecs-service-settings.ts / ecs-service-answers.ts: the service settings moto forgets, the tasks that run;
 * - ecs-exec-state.ts: ECS Exec per task (`enableExecuteCommand`, the ExecuteCommandAgent);
 * - task-eni-placement.ts: a task's ENI in its subnet, deleted when the task stops;
 * - vpc-dns-hostnames.ts: awsvpc RunTask in a VPC without DNS hostnames;
 * - ecs-list-tasks.ts, tagging-inactive-task-definitions.ts: answers filtered as AWS filters them.
 * What they remember lives as long as the gateway (the sandbox's moto lives no longer).
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECSClient, type Task } from "@aws-sdk/client-ecs";
import { isRecord } from "../../contract/values.ts";
import { EcsExecState } from "./ecs-exec-state.ts";
import { type AsyncRewrite, type Json, parseJsonObject, rewriteJson, subnetOf } from "./ecs-json.ts";
import { filterListTasks } from "./ecs-list-tasks.ts";
import { completeService } from "./ecs-service-answers.ts";
import { EcsServiceScheduler } from "./ecs-service-scheduler.ts";
import { EcsServiceSettings } from "./ecs-service-settings.ts";
import { hideInactiveTaskDefinitions } from "./tagging-inactive-task-definitions.ts";
import { TaskEniPlacement } from "./task-eni-placement.ts";
import type { SandboxCredentials } from "./types.ts";
import { withDnsHostnames } from "./vpc-dns-hostnames.ts";

/** `X-Amz-Target` prefix of ECS (AWS JSON 1.1). */
export const ECS_TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113.";
/** `X-Amz-Target` of the Resource Groups Tagging API's GetResources. */
export const TAGGING_GET_RESOURCES = "ResourceGroupsTaggingAPI_20170126.GetResources";

export class EcsCorrections {
  /** Which tasks run with ECS Exec on (StartSession's targets.ts asks). */
  readonly exec = new EcsExecState();
  private readonly ecs: ECSClient;
  private readonly ec2: EC2Client;
  private readonly settings = new EcsServiceSettings();
  private readonly enis: TaskEniPlacement;
  private readonly scheduler: EcsServiceScheduler;
  /**
   * One scheduler pass or awsvpc RunTask at a time: two UpdateService calls must not both start the
   * missing task, and the VPC's DNS hostnames attribute must not be restored under a running call.
   */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(motoUrl: string, region: string, credentials: SandboxCredentials, log: (line: string) => void) {
    const config = { endpoint: motoUrl, region, credentials, maxAttempts: 1 };
    this.ecs = new ECSClient(config);
    this.ec2 = new EC2Client(config);
    this.enis = new TaskEniPlacement(this.ec2);
    this.scheduler = new EcsServiceScheduler(this.ecs, this.ec2, this.settings, this.exec, this.enis, log);
  }

  /**
   * Sends the call on to moto (`forward`), around it what moto needs: an awsvpc RunTask runs with the
   * VPC's DNS hostnames on (vpc-dns-hostnames.ts), serialized with the scheduler's passes.
   */
  async forward(
    amzTarget: string | null,
    request: Json,
    forward: () => Promise<Response>,
  ): Promise<Response> {
    if (amzTarget !== `${ECS_TARGET_PREFIX}RunTask`) return forward();
    const subnet = subnetOf(request.networkConfiguration);
    if (!subnet) return forward();
    return this.serial(() => withDnsHostnames(this.ec2, subnet, forward));
  }

  /** Whether this call is one the corrections look at (its request body is then read as JSON). */
  concerns(amzTarget: string | null): boolean {
    return amzTarget === TAGGING_GET_RESOURCES || amzTarget?.startsWith(ECS_TARGET_PREFIX) === true;
  }

  /** The correction moto's answer to this call needs, or undefined. */
  rewriteFor(amzTarget: string | null, request: Json): AsyncRewrite | undefined {
    if (amzTarget === TAGGING_GET_RESOURCES) return (answer) => hideInactiveTaskDefinitions(this.ecs, answer);
    if (!amzTarget?.startsWith(ECS_TARGET_PREFIX)) return undefined;
    switch (amzTarget.slice(ECS_TARGET_PREFIX.length)) {
      case "CreateService":
      case "UpdateService":
      case "DeleteService":
        return (answer) => this.afterServiceChange(request, answer);
      case "DescribeServices":
        return (answer) => this.describeServices(answer);
      case "RunTask":
      case "StartTask":
        return (answer) => this.afterRunTask(request, answer);
      case "DescribeTasks":
        return async (answer) =>
          rewriteJson(answer, (a) => {
            this.enis.show(a.tasks);
            this.exec.addFields(a.tasks);
          });
      case "StopTask":
        return (answer) => this.afterStopTask(answer);
      case "ListTasks":
        return (answer) => filterListTasks(this.ecs, request, answer);
      default:
        return undefined;
    }
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
    this.settings.record(arn, request);
    await this.serial(() => this.scheduler.schedule(arn, request.forceNewDeployment === true));
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

  private completeService(service: Json): Promise<Json> {
    const arn = typeof service.serviceArn === "string" ? service.serviceArn : "";
    return completeService(service, this.settings.of(arn), (cluster, name) =>
      this.scheduler.serviceTasks(cluster, name),
    );
  }

  private async afterRunTask(request: Json, answer: string): Promise<string> {
    const parsed = parseJsonObject(answer);
    if (!parsed) return answer;
    this.exec.remember(request, parsed.tasks);
    await this.enis.place(parsed.tasks);
    this.exec.addFields(parsed.tasks);
    return JSON.stringify(parsed);
  }

  private async afterStopTask(answer: string): Promise<string> {
    const parsed = parseJsonObject(answer);
    if (!isRecord(parsed?.task)) return answer;
    await this.enis.release(parsed.task as Task);
    this.enis.show([parsed.task]);
    this.exec.addFields([parsed.task]);
    return JSON.stringify(parsed);
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }
}
