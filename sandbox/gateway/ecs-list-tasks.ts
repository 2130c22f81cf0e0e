/**
 * ListTasks as AWS filters it. moto ignores `serviceName`, lists stopped tasks when no `desiredStatus` is
 * given (AWS: RUNNING) and matches the cluster name as a substring of the task's cluster ARN, so the CLI
 * could pick another service's or a stopped task as its ECS Exec target.
 */
import { DescribeTasksCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { type Json, parseJsonObject } from "./ecs-json.ts";

/** moto's ListTasks answer with only the tasks AWS would list for `request`. */
export async function filterListTasks(ecs: ECSClient, request: Json, answer: string): Promise<string> {
  const parsed = parseJsonObject(answer);
  if (!parsed || !Array.isArray(parsed.taskArns) || parsed.taskArns.length === 0) return answer;
  const cluster = typeof request.cluster === "string" ? request.cluster : "default";
  const clusterName = cluster.split("/").pop();
  const desiredStatus = typeof request.desiredStatus === "string" ? request.desiredStatus : "RUNNING";
  const service = typeof request.serviceName === "string" ? request.serviceName.split("/").pop() : undefined;
  const arns = parsed.taskArns.filter((a): a is string => typeof a === "string");
  const kept = new Set<string>();
  // DescribeTasks takes at most 100 tasks.
  for (let i = 0; i < arns.length; i += 100) {
    const described = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
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
