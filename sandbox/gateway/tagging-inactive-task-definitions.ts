/**
 * A deregistered (INACTIVE) task definition is gone for the Resource Groups Tagging API, as for the
 * console; moto keeps listing it in GetResources, so a destroyed stack would still show its task
 * definitions (the e2e leftover sweep flags them).
 */
import { DescribeTaskDefinitionCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { isRecord } from "../../contract/values.ts";
import { parseJsonObject } from "./ecs-json.ts";

/** moto's GetResources answer without the task definitions that are not ACTIVE. */
export async function hideInactiveTaskDefinitions(ecs: ECSClient, answer: string): Promise<string> {
  const parsed = parseJsonObject(answer);
  const list = parsed?.ResourceTagMappingList;
  if (!parsed || !Array.isArray(list)) return answer;
  const kept = [];
  for (const mapping of list) {
    const arn = isRecord(mapping) && typeof mapping.ResourceARN === "string" ? mapping.ResourceARN : "";
    if (arn.includes(":task-definition/") && (await taskDefinitionStatus(ecs, arn)) !== "ACTIVE") continue;
    kept.push(mapping);
  }
  return kept.length === list.length ? answer : JSON.stringify({ ...parsed, ResourceTagMappingList: kept });
}

/** The definition's status; one moto cannot describe counts as gone. */
async function taskDefinitionStatus(ecs: ECSClient, arn: string): Promise<string> {
  try {
    const res = await ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
    return res.taskDefinition?.status ?? "INACTIVE";
  } catch {
    return "INACTIVE";
  }
}
