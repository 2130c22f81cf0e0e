/**
 * "Jump host up": an EC2 jump host stopped by the idle auto-stop is started and we wait until Session
 * Manager reports its agent Online; an ECS jump host is resolved to the `ecs:<cluster>_<task>_<runtimeId>`
 * target Session Manager expects. Returns the StartSession target. Step 2 of the connect pipeline
 * (pipeline/index.ts); `instanceState` and `ssmPingStatus` are the same readiness, read-only, for doctor.
 */
import type { AwsClients } from "./aws.ts";
import { CliError, errorName } from "./errors.ts";
import type { PipelineReporter as Reporter } from "./pipeline/progress.ts";
import type { JumpHost } from "./target.ts";

export interface JumpHostWaitOptions {
  /** @default DBTUNNEL_WAIT_TIMEOUT_S or 600 s */
  readonly timeoutMs?: number;
  /** @default DBTUNNEL_POLL_MS or 3000 ms */
  readonly pollMs?: number;
  /** For messages: the stack's engineer policy. */
  readonly engineerPolicyArn?: string;
  /** Ctrl-C: stop waiting at once instead of after the current poll interval. */
  readonly signal?: AbortSignal;
  /**
   * Take Session Manager's "Online" for a running EC2 jump host and skip the EC2 calls: a tunnel then never
   * loads the EC2 SDK (about 23 MB of a long-lived listener's memory). A host stopped moments ago may still
   * show Online: a caller whose StartSession then answers TargetNotConnected asks again with false.
   * @default true
   */
  readonly trustOnline?: boolean;
}

export async function readyJumpHost(
  aws: AwsClients,
  jumpHost: JumpHost,
  ui: Reporter,
  options: JumpHostWaitOptions = {},
): Promise<string> {
  const timeoutMs = options.timeoutMs ?? Number(process.env.DBTUNNEL_WAIT_TIMEOUT_S || 600) * 1000;
  const pollMs = options.pollMs ?? Number(process.env.DBTUNNEL_POLL_MS || 3000);
  const wait = { timeoutMs, pollMs, signal: options.signal };
  if (jumpHost.kind === "ecs") return ecsTarget(aws, jumpHost.cluster, jumpHost.service, ui);
  if (options.trustOnline !== false && (await ssmPingStatus(aws, jumpHost.instanceId)) === "Online") {
    ui.step("start-jump-host", `starting jump host ${jumpHost.instanceId}`).done("already running");
    ui.step("ssm-online", "waiting for Session Manager").done("online");
    return jumpHost.instanceId;
  }
  await startedInstance(aws, jumpHost.instanceId, ui, wait, options.engineerPolicyArn);
  await waitSsmOnline(aws, jumpHost.instanceId, ui, wait);
  return jumpHost.instanceId;
}

export async function instanceState(aws: AwsClients, instanceId: string): Promise<string> {
  const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
  try {
    const result = await (await aws.ec2()).send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return result.Reservations?.[0]?.Instances?.[0]?.State?.Name ?? "unknown";
  } catch (error) {
    if (/InvalidInstanceID/.test(errorName(error))) return "missing";
    throw error;
  }
}

interface Wait {
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly signal?: AbortSignal;
}

/** Sleeps one poll interval; rejects as soon as the signal aborts. */
function pause({ pollMs, signal }: Wait): Promise<void> {
  if (!signal) return Bun.sleep(pollMs);
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CliError("Cancelled.", { code: "Aborted" }));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, pollMs);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

async function startedInstance(
  aws: AwsClients,
  instanceId: string,
  ui: Reporter,
  wait: Wait,
  policy?: string,
): Promise<void> {
  const { timeoutMs } = wait;
  const step = ui.step("start-jump-host", `starting jump host ${instanceId}`);
  const deadline = Date.now() + timeoutMs;
  let startRequested = false;
  for (;;) {
    const state = await instanceState(aws, instanceId);
    if (state === "running") {
      step.done(startRequested ? "started" : "already running");
      return;
    }
    if (state === "missing" || state === "terminated" || state === "shutting-down") {
      step.fail(state);
      throw new CliError(
        `Jump host ${instanceId} is ${state === "missing" ? "gone" : state}: redeploy the stack ('cdktf deploy') and refresh the outputs file.`,
        { code: "InvalidTarget" },
      );
    }
    if (state === "stopped" && !startRequested) {
      await startInstance(aws, instanceId, policy);
      startRequested = true;
    }
    if (Date.now() > deadline) {
      step.fail(`still ${state}`);
      throw new CliError(
        `Jump host ${instanceId} is still '${state}' after ${Math.round(timeoutMs / 1000)} s: check it in the EC2 console, then retry.`,
        { code: "TargetNotConnected" },
      );
    }
    step.progress(state);
    await pause(wait).catch((error) => {
      step.fail("cancelled");
      throw error;
    });
  }
}

async function startInstance(aws: AwsClients, instanceId: string, policy?: string): Promise<void> {
  const { StartInstancesCommand } = await import("@aws-sdk/client-ec2");
  try {
    await (await aws.ec2()).send(new StartInstancesCommand({ InstanceIds: [instanceId] }));
  } catch (error) {
    if (/AccessDenied|UnauthorizedOperation/.test(errorName(error))) {
      throw new CliError(
        `Jump host ${instanceId} is stopped and you may not start it (ec2:StartInstances denied): attach the stack's engineer policy${policy ? ` ${policy}` : ""} or ask an administrator to start it.`,
        { code: "AccessDenied", cause: error },
      );
    }
    throw error;
  }
}

async function waitSsmOnline(aws: AwsClients, instanceId: string, ui: Reporter, wait: Wait): Promise<void> {
  const { timeoutMs } = wait;
  const step = ui.step("ssm-online", "waiting for Session Manager");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let status: string;
    try {
      status = await describePing(aws, instanceId);
    } catch (error) {
      const name = errorName(error);
      if (/Credentials|ExpiredToken|InvalidClientTokenId/.test(name)) throw error;
      // Not allowed to ask (or an endpoint without this API, like moto): StartSession gives the verdict.
      step.done(`status unknown (${name || "error"}); trying the session`);
      return;
    }
    if (status === "Online") {
      step.done("online");
      return;
    }
    if (Date.now() > deadline) {
      step.fail(status);
      throw new CliError(
        `The jump host ${instanceId} did not come online in Session Manager (${status}) within ${Math.round(timeoutMs / 1000)} s: check its SSM agent and its route to the ssm/ssmmessages endpoints.`,
        { code: "TargetNotConnected" },
      );
    }
    step.progress(status);
    await pause(wait).catch((error) => {
      step.fail("cancelled");
      throw error;
    });
  }
}

/** Ping status for doctor; undefined when the API is unavailable. */
export async function ssmPingStatus(aws: AwsClients, instanceId: string): Promise<string | undefined> {
  try {
    return await describePing(aws, instanceId);
  } catch {
    return undefined;
  }
}

/** Session Manager's view of the instance's agent: "Online", "ConnectionLost", ... or "not registered". */
async function describePing(aws: AwsClients, instanceId: string): Promise<string> {
  const { DescribeInstanceInformationCommand } = await import("@aws-sdk/client-ssm");
  const info = await (await aws.ssm()).send(
    new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: [instanceId] }] }),
  );
  return info.InstanceInformationList?.[0]?.PingStatus ?? "not registered";
}

export async function ecsTarget(
  aws: AwsClients,
  cluster: string,
  service: string,
  ui: Reporter,
): Promise<string> {
  const { ListTasksCommand, DescribeTasksCommand } = await import("@aws-sdk/client-ecs");
  const ecs = await aws.ecs();
  const step = ui.step("ecs-task", `finding a running task of ${cluster}/${service}`);
  const { taskArns = [] } = await ecs.send(
    new ListTasksCommand({ cluster, serviceName: service, desiredStatus: "RUNNING" }),
  );
  if (taskArns.length === 0) {
    step.fail("no running task");
    throw new CliError(
      `ECS service ${cluster}/${service} has no running task: scale it up ('aws ecs update-service --cluster ${cluster} --service ${service} --desired-count 1') and retry.`,
      { code: "TargetNotConnected" },
    );
  }
  const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }));
  for (const task of tasks) {
    if (task.lastStatus && task.lastStatus !== "RUNNING") continue;
    const container = task.containers?.find((c) => c.runtimeId);
    const taskId = task.taskArn?.split("/").pop();
    if (container?.runtimeId && taskId) {
      const target = ecsTargetString(cluster, taskId, container.runtimeId);
      step.done(taskId);
      return target;
    }
  }
  step.fail("no container runtime id");
  throw new CliError(
    `No running task of ${cluster}/${service} reports a container runtime id yet: wait for the task to start, or check that ECS Exec (enableExecuteCommand) is on.`,
    { code: "TargetNotConnected" },
  );
}

export function ecsTargetString(cluster: string, taskId: string, runtimeId: string): string {
  const clusterName = cluster.split("/").pop() ?? cluster;
  return `ecs:${clusterName}_${taskId}_${runtimeId}`;
}
