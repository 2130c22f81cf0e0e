/**
 * Reading moto's ECS answers: the ECS corrections (ecs-corrections.ts and the files it composes) all look
 * at the same few places of a task or a network configuration, in JSON answers and SDK objects alike, and
 * must leave an answer they cannot read untouched rather than fail the call.
 */
import type { NetworkConfiguration } from "@aws-sdk/client-ecs";
import { isRecord } from "../../contract/values.ts";
import { parseJson } from "./moto-compat.ts";

/** A JSON object of an answer or a request, edited in place by the corrections. */
export type Json = Record<string, unknown>;

/** Rewrites moto's successful answer (text) to what AWS answers; may call moto first. */
export type AsyncRewrite = (answer: string) => Promise<string>;

/** The answer as a JSON object, or undefined (moto answers some errors as XML or plain text). */
export function parseJsonObject(text: string): Json | undefined {
  const value = parseJson(text);
  return isRecord(value) ? value : undefined;
}

/** Applies `edit` to the parsed answer; text that is no JSON object passes through as it is. */
export async function rewriteJson(text: string, edit: (parsed: Json) => void): Promise<string> {
  const parsed = parseJsonObject(text);
  if (!parsed) return text;
  edit(parsed);
  return JSON.stringify(parsed);
}

/** A task's ElasticNetworkInterface attachment (JSON answer or SDK object alike). */
export function eniAttachment(task: Json): Json | undefined {
  const attachments = Array.isArray(task.attachments) ? task.attachments : [];
  return attachments.find((a): a is Json => isRecord(a) && a.type === "ElasticNetworkInterface");
}

/** An attachment's `details` as name → value (`subnetId`, `networkInterfaceId`, …). */
export function attachmentDetails(attachment: Json | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of Array.isArray(attachment?.details) ? attachment.details : []) {
    if (isRecord(d) && typeof d.name === "string" && typeof d.value === "string") out[d.name] = d.value;
  }
  return out;
}

/** The first subnet of an awsvpc network configuration (where moto puts the task's ENI). */
export function subnetOf(config: unknown): string | undefined {
  const awsvpc = isRecord(config) ? (config as NetworkConfiguration).awsvpcConfiguration : undefined;
  const subnet = awsvpc?.subnets?.[0];
  return typeof subnet === "string" && subnet !== "" ? subnet : undefined;
}

/** Each element of an answer's task list that is a JSON object with a `taskArn`. */
export function tasksWithArn(tasks: unknown): (Json & { taskArn: string })[] {
  if (!Array.isArray(tasks)) return [];
  return tasks.filter((t): t is Json & { taskArn: string } => isRecord(t) && typeof t.taskArn === "string");
}
