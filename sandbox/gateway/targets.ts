/**
 * The "is the agent on this target online?" question, answered from moto: an EC2 instance is connected
 * while moto says it runs; an ECS Exec target (`ecs:<cluster>_<taskId>_<runtimeId>`) while its task runs
 * in that cluster with ECS Exec on (its ExecuteCommandAgent, see ecs-exec-state.ts) and one of its
 * containers has that runtime id (the one the corrected DescribeTasks
 * answer shows, see moto-compat.ts). Anything else is TargetNotConnected, as AWS answers for a target
 * whose agent never registered; a string that is no target id at all is InvalidTarget.
 */
import { DescribeInstancesCommand, EC2Client, type Instance } from "@aws-sdk/client-ec2";
import { DescribeTasksCommand, ECSClient, type Task } from "@aws-sdk/client-ecs";
import { partitionOfRegion } from "../../contract/partitions.ts";
import { ApiError } from "./aws-errors.ts";
import type { EcsExecState } from "./ecs-exec-state.ts";
import { containerRuntimeId } from "./moto-compat.ts";
import type { SandboxCredentials } from "./types.ts";

export type ParsedTarget =
  | { readonly kind: "ec2"; readonly instanceId: string }
  | { readonly kind: "ecs"; readonly cluster: string; readonly taskId: string; readonly runtimeId: string };

const INSTANCE_ID = /^(?:i|mi)-[0-9a-f]{8,17}$/;
const ECS_TARGET = /^ecs:(.+)_([^_]+)_([^_]+)$/;

/** Parses a StartSession Target; throws InvalidTarget for anything that is not a target id. */
export function parseTarget(target: string): ParsedTarget {
  if (INSTANCE_ID.test(target)) return { kind: "ec2", instanceId: target };
  const ecs = ECS_TARGET.exec(target);
  if (ecs) return { kind: "ecs", cluster: ecs[1] ?? "", taskId: ecs[2] ?? "", runtimeId: ecs[3] ?? "" };
  throw new ApiError(
    "InvalidTarget",
    `Target ${target} is not valid. Use an instance id (i-...) or ecs:<cluster>_<taskId>_<runtimeId>.`,
  );
}

/** The ARN IAM evaluates ssm:StartSession against (used in AccessDenied messages). */
export function targetArn(target: ParsedTarget, region: string, accountId: string): string {
  const partition = partitionOfRegion(region);
  return target.kind === "ec2"
    ? `arn:${partition}:ec2:${region}:${accountId}:instance/${target.instanceId}`
    : `arn:${partition}:ecs:${region}:${accountId}:task/${target.cluster}/${target.taskId}`;
}

export class MotoTargets {
  private readonly ec2: EC2Client;
  private readonly ecs: ECSClient;

  constructor(
    motoUrl: string,
    region: string,
    credentials: SandboxCredentials,
    /** Knows which tasks run with ECS Exec on (moto does not). */
    private readonly ecsExec: Pick<EcsExecState, "execEnabled">,
  ) {
    const config = { endpoint: motoUrl, region, credentials, maxAttempts: 1 };
    this.ec2 = new EC2Client(config);
    this.ecs = new ECSClient(config);
  }

  /** Resolves when the target's agent would be connected; throws TargetNotConnected otherwise. */
  async requireConnected(target: ParsedTarget, raw: string): Promise<void> {
    const running =
      target.kind === "ec2" ? await this.instanceRunning(target.instanceId) : await this.execAgentUp(target);
    if (!running) throw new ApiError("TargetNotConnected", `${raw} is not connected.`);
  }

  /** The target's tags (IAM's `ssm:resourceTag/<key>` on StartSession); none for an unknown target. */
  async tags(target: ParsedTarget): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    try {
      if (target.kind === "ec2") {
        const res = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [target.instanceId] }));
        for (const t of res.Reservations?.[0]?.Instances?.[0]?.Tags ?? []) {
          if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
        }
      } else {
        const res = await this.ecs.send(
          new DescribeTasksCommand({ cluster: target.cluster, tasks: [target.taskId], include: ["TAGS"] }),
        );
        const task = res.tasks?.find((t) => lastSegment(t.taskArn) === target.taskId);
        for (const t of task?.tags ?? []) if (t.key !== undefined) out[t.key] = t.value ?? "";
      }
    } catch {
      // An unknown target has no tags; StartSession answers TargetNotConnected for it later.
    }
    return out;
  }

  /**
   * moto moves an ECS task on from RUNNING (to DEACTIVATING, ... STOPPED) every time it is described,
   * so a jump-host task would look gone after the first DescribeTasks. Real tasks keep running until
   * stopped: make moto's task state progress manually (never, in practice). Best effort.
   */
  async keepEcsTasksRunning(motoUrl: string): Promise<void> {
    const res = await fetch(`${motoUrl}/moto-api/state-manager/set-transition`, {
      method: "POST",
      body: JSON.stringify({
        model_name: "ecs::task",
        transition: { progression: "manual", times: 2 ** 31 },
      }),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`moto state-manager answered HTTP ${res.status}`);
  }

  /** Every EC2 instance moto knows (terminated ones included). */
  async instances(): Promise<Instance[]> {
    const out: Instance[] = [];
    let token: string | undefined;
    do {
      const page = await this.ec2.send(new DescribeInstancesCommand({ NextToken: token }));
      for (const reservation of page.Reservations ?? []) out.push(...(reservation.Instances ?? []));
      token = page.NextToken;
    } while (token);
    return out;
  }

  close(): void {
    this.ec2.destroy();
    this.ecs.destroy();
  }

  private async instanceRunning(instanceId: string): Promise<boolean> {
    try {
      const res = await this.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const instance = res.Reservations?.[0]?.Instances?.[0];
      return instance?.State?.Name === "running";
    } catch (error) {
      if ((error as { name?: string }).name?.startsWith("InvalidInstanceID")) return false;
      throw error;
    }
  }

  private async execAgentUp(target: Extract<ParsedTarget, { kind: "ecs" }>): Promise<boolean> {
    let tasks: Task[];
    try {
      const res = await this.ecs.send(
        new DescribeTasksCommand({ cluster: target.cluster, tasks: [target.taskId] }),
      );
      tasks = res.tasks ?? [];
    } catch (error) {
      const name = (error as { name?: string }).name ?? "";
      if (name === "ClusterNotFoundException" || name === "InvalidParameterException") return false;
      throw error;
    }
    // moto matches task ids as substrings and across all clusters: insist on this task in this cluster.
    const task = tasks.find(
      (t) => lastSegment(t.taskArn) === target.taskId && lastSegment(t.clusterArn) === target.cluster,
    );
    if (!task?.taskArn || task.lastStatus !== "RUNNING") return false;
    const taskArn = task.taskArn;
    // Without ECS Exec no ExecuteCommandAgent runs in the task: nothing Session Manager can reach.
    if (!this.ecsExec.execEnabled(taskArn)) return false;
    return (task.containers ?? []).some(
      (container, index) => containerRuntimeId(taskArn, container, index) === target.runtimeId,
    );
  }
}

function lastSegment(arn: string | undefined): string {
  return arn?.split("/").pop() ?? "";
}
