/**
 * Corrections for moto 5.2.1 deviations from AWS, applied by the gateway on the way through
 * (README "moto corrections"). Each one restores what AWS does; none changes what the stack or the CLI
 * asks for, so no security property of the stack is weakened for the sandbox.
 *
 * 1. EC2 ModifyInstanceAttribute in the `<Attribute>.Value=x` form (what the AWS provider sends for
 *    `instance_initiated_shutdown_behavior = "stop"`) is not recognised by moto, which falls through to
 *    its security-group handler and strips every group from the instance. Rewritten to the equivalent
 *    `Attribute=<name>&Value=x` form that moto does understand.
 * 2. RDS DescribeDBParameters answers without `<Source>`, so the provider cannot tell which parameters
 *    the user set and plans `+ parameter rds.force_ssl` forever. moto reports only parameters that were
 *    set through ModifyDBParameterGroup (it has no engine defaults), so they are all `user` parameters.
 * 3. ECS DescribeTasks answers containers without `runtimeId`, and the ECS Exec target Session Manager
 *    expects is `ecs:<cluster>_<taskId>_<runtimeId>` (aws-facts.md): without it an ECS jump host cannot
 *    be reached at all. A deterministic id in AWS's format is added; `targets.ts` accepts exactly it.
 * 4. ECS RunTask (and so a service's task) crashes for a Fargate task definition whose containers set no
 *    `memory`/`memoryReservation` (valid on Fargate, where the task's `memory` is what counts; it is how
 *    the stack's jump host is defined): moto adds the containers' memory up for EC2 placement. The
 *    registered containers get `memoryReservation: 0` on the way in, a value AWS refuses (≥ 6 MiB), so it
 *    can only be this marker, and every task definition answer drops it again: Terraform and the CLI see
 *    the definition as registered.
 * The ECS scheduler, ECS Exec and the other ECS corrections are `ecs-corrections.ts` and the files it names.
 */
import { createHash } from "node:crypto";
import { isRecord } from "../../contract/values.ts";

/** Attributes whose `X.Value` form moto misreads, mapped to the `Attribute=` name it understands. */
const EC2_VALUE_ATTRIBUTES: Readonly<Record<string, string>> = {
  InstanceInitiatedShutdownBehavior: "instanceInitiatedShutdownBehavior",
  DisableApiTermination: "disableApiTermination",
};

/** `X-Amz-Target` of ECS RegisterTaskDefinition. */
export const ECS_REGISTER_TASK_DEFINITION = "AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition";
/** ECS calls whose answer holds a task definition (`taskDefinition`). */
const ECS_TASK_DEFINITION_ANSWERS = new Set(
  ["RegisterTaskDefinition", "DescribeTaskDefinition", "DeregisterTaskDefinition"].map(
    (op) => `AmazonEC2ContainerServiceV20141113.${op}`,
  ),
);

/** Returns the request body to send to moto (rewritten where needed), or the original body. */
export function rewriteRequestBody(
  service: string,
  body: ArrayBuffer | undefined,
  amzTarget: string | null = null,
): ArrayBuffer | undefined {
  if (amzTarget === ECS_REGISTER_TASK_DEFINITION) return markContainersWithoutMemory(body);
  if (service !== "ec2" || !body || body.byteLength === 0) return body;
  const form = new URLSearchParams(new TextDecoder().decode(body));
  if (form.get("Action") !== "ModifyInstanceAttribute" || form.has("Attribute")) return body;
  for (const [field, attribute] of Object.entries(EC2_VALUE_ATTRIBUTES)) {
    const value = form.get(`${field}.Value`);
    if (value === null) continue;
    form.delete(`${field}.Value`);
    form.set("Attribute", attribute);
    form.set("Value", value);
    return new TextEncoder().encode(form.toString()).buffer as ArrayBuffer;
  }
  return body;
}

/** `X-Amz-Target` of ECS DescribeTasks (ECS speaks AWS JSON 1.1). */
export const ECS_DESCRIBE_TASKS = "AmazonEC2ContainerServiceV20141113.DescribeTasks";

/** Rewrites the text of moto's (successful) answer. */
export type ResponseRewrite = (text: string) => string;

/**
 * The correction moto's answer to this request needs, or undefined when it passes through untouched.
 * `amzTarget` is the request's `X-Amz-Target` header (JSON protocols), `body` the original request body.
 */
export function responseRewrite(
  service: string,
  amzTarget: string | null,
  body: ArrayBuffer | undefined,
): ResponseRewrite | undefined {
  if (amzTarget === ECS_DESCRIBE_TASKS) return addContainerRuntimeIds;
  if (amzTarget !== null && ECS_TASK_DEFINITION_ANSWERS.has(amzTarget)) return dropMemoryMarkers;
  if (service !== "rds" || !body || body.byteLength === 0) return undefined;
  const action = new URLSearchParams(new TextDecoder().decode(body)).get("Action");
  return action === "DescribeDBParameters" ? addParameterSource : undefined;
}

/** Adds `<Source>user</Source>` to every `<Parameter>` of a DescribeDBParameters answer that lacks one. */
export function addParameterSource(xml: string): string {
  return xml.replace(/<Parameter>([\s\S]*?)<\/Parameter>/g, (whole, inner: string) =>
    inner.includes("<Source>") ? whole : `<Parameter>${inner}<Source>user</Source></Parameter>`,
  );
}

/**
 * A container runtime id in AWS's format, `<32-hex task id>-<10 digits>`, derived only from the task ARN
 * and the container's name so the same container always gets the same id (the gateway's StartSession
 * check recomputes it from moto's task). moto's task ids are UUIDs: without the dashes they are the
 * 32 hex digits a real task id has.
 */
export function ecsRuntimeId(taskArn: string, containerName: string): string {
  const taskId = (taskArn.split("/").pop() ?? "").replaceAll("-", "").toLowerCase();
  const hex = /^[0-9a-f]{32}$/.test(taskId) ? taskId : sha256Hex(taskArn).slice(0, 32);
  const digits = BigInt(`0x${sha256Hex(`${taskArn}\n${containerName}`).slice(0, 16)}`) % 10_000_000_000n;
  return `${hex}-${digits.toString().padStart(10, "0")}`;
}

/** The runtime id the corrected DescribeTasks answer shows for a container (moto's own, if it has one). */
export function containerRuntimeId(
  taskArn: string,
  container: { readonly name?: unknown; readonly runtimeId?: unknown },
  index: number,
): string {
  if (typeof container.runtimeId === "string" && container.runtimeId !== "") return container.runtimeId;
  // Container names are unique within a task; the position stands in for a missing one.
  return ecsRuntimeId(taskArn, typeof container.name === "string" ? container.name : `#${index}`);
}

/** Adds a `runtimeId` to every container of every task of a DescribeTasks answer that lacks one. */
export function addContainerRuntimeIds(json: string): string {
  const answer = parseJson(json);
  if (!isRecord(answer) || !Array.isArray(answer.tasks)) return json;
  let changed = false;
  for (const task of answer.tasks) {
    if (!isRecord(task) || typeof task.taskArn !== "string" || !Array.isArray(task.containers)) continue;
    const taskArn = task.taskArn;
    task.containers.forEach((container: unknown, index) => {
      if (!isRecord(container) || (typeof container.runtimeId === "string" && container.runtimeId)) return;
      container.runtimeId = containerRuntimeId(taskArn, container, index);
      changed = true;
    });
  }
  return changed ? JSON.stringify(answer) : json;
}

/**
 * RegisterTaskDefinition with a task-level `memory`: containers without `memory`/`memoryReservation` get
 * the marker `memoryReservation: 0` (moto needs a number to add up; AWS never stores 0).
 */
export function markContainersWithoutMemory(body: ArrayBuffer | undefined): ArrayBuffer | undefined {
  if (!body || body.byteLength === 0) return body;
  const request = parseJson(new TextDecoder().decode(body));
  if (!isRecord(request) || request.memory === undefined || !Array.isArray(request.containerDefinitions))
    return body;
  let changed = false;
  for (const container of request.containerDefinitions) {
    if (!isRecord(container) || container.memory !== undefined || container.memoryReservation !== undefined)
      continue;
    container.memoryReservation = 0;
    changed = true;
  }
  return changed ? (new TextEncoder().encode(JSON.stringify(request)).buffer as ArrayBuffer) : body;
}

/** Removes the `memoryReservation: 0` markers from a task definition answer. */
export function dropMemoryMarkers(json: string): string {
  const answer = parseJson(json);
  const containers =
    isRecord(answer) && isRecord(answer.taskDefinition)
      ? answer.taskDefinition.containerDefinitions
      : undefined;
  if (!Array.isArray(containers)) return json;
  let changed = false;
  for (const container of containers) {
    if (isRecord(container) && container.memoryReservation === 0) {
      delete container.memoryReservation;
      changed = true;
    }
  }
  return changed ? JSON.stringify(answer) : json;
}

/** The parsed JSON, or undefined for text that is not JSON (moto's answer then passes through as it is). */
/** JSON.parse, or undefined for text that is not JSON (moto answers some errors as XML or plain text). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
