/**
 * The ECS Fargate jump host as deployed, read from the live APIs (ecs-mysql variant): its service runs
 * exactly one task with ECS Exec, the task's ExecuteCommandAgent runs, its ENI sits in one of the
 * service's subnets with only the service's security group and no public address, and the task resolves
 * to the Session Manager target `ecs:<cluster>_<taskId>_<runtimeId>` the CLI will open.
 */
import { DescribeNetworkInterfacesCommand, DescribeSubnetsCommand } from "@aws-sdk/client-ec2";
import { DescribeServicesCommand, DescribeTasksCommand, ListTasksCommand } from "@aws-sdk/client-ecs";
import type { DeployedStack } from "../cli/demo/flow.ts";
import { ecsTargetString } from "../cli/jump-host.ts";

export async function ecsJumpHostRunning(stack: DeployedStack): Promise<string> {
  const jump = stack.target.jumpHost;
  if (jump.kind !== "ecs") throw new Error(`the stack's jump host is ${jump.kind}, not an ECS service`);
  const { ecs, ec2 } = stack.clients;
  const { cluster, service: serviceName } = jump;
  const service = (await ecs.send(new DescribeServicesCommand({ cluster, services: [serviceName] })))
    .services?.[0];
  if (!service) throw new Error(`ECS service ${cluster}/${serviceName} not found`);
  const problems: string[] = [];
  if (service.status !== "ACTIVE") problems.push(`service is ${service.status}`);
  if (service.enableExecuteCommand !== true) problems.push("service has ECS Exec off");
  if (service.desiredCount !== 1 || service.runningCount !== 1)
    problems.push(`service runs ${service.runningCount} of ${service.desiredCount} tasks, expected 1 of 1`);
  const awsvpc = service.networkConfiguration?.awsvpcConfiguration;
  if (awsvpc?.assignPublicIp !== "DISABLED") problems.push(`assignPublicIp is ${awsvpc?.assignPublicIp}`);

  const taskArns = (await ecs.send(new ListTasksCommand({ cluster, serviceName }))).taskArns ?? [];
  if (taskArns.length !== 1)
    throw new Error(`service ${serviceName} lists ${taskArns.length} running tasks, expected 1`);
  const task = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns }))).tasks?.[0];
  const taskId = task?.taskArn?.split("/").pop() ?? "";
  if (task?.lastStatus !== "RUNNING") throw new Error(`task ${taskId} is ${task?.lastStatus}, not RUNNING`);
  if (task.enableExecuteCommand !== true) problems.push("task has ECS Exec off");
  const container = task.containers?.find((c) =>
    c.managedAgents?.some((a) => a.name === "ExecuteCommandAgent" && a.lastStatus === "RUNNING"),
  );
  if (!container?.runtimeId)
    problems.push("no container with a RUNNING ExecuteCommandAgent and a runtime id");

  const details = Object.fromEntries(
    (task.attachments?.find((a) => a.type === "ElasticNetworkInterface")?.details ?? []).map((d) => [
      d.name,
      d.value,
    ]),
  );
  const subnet = details.subnetId ?? "";
  const address = details.privateIPv4Address ?? "";
  if (!awsvpc?.subnets?.includes(subnet))
    problems.push(`task ENI is in ${subnet || "no subnet"}, not the service's`);
  const cidr = subnet
    ? (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet] }))).Subnets?.[0]?.CidrBlock
    : undefined;
  // AWS gives the task an address of its subnet (moto alone: a random 10.x.y.z; the gateway corrects it).
  if (!cidr || !inCidr(address, cidr))
    problems.push(`task address '${address}' is not in its subnet (${cidr})`);
  const eniId = details.networkInterfaceId ?? "";
  const eni = eniId
    ? (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] })))
        .NetworkInterfaces?.[0]
    : undefined;
  if (!eni) problems.push("task ENI not found in EC2");
  else {
    if (eni.Association?.PublicIp) problems.push(`task ENI has public address ${eni.Association.PublicIp}`);
    const groups = (eni.Groups ?? []).map((g) => g.GroupId).sort();
    const wanted = [...(awsvpc?.securityGroups ?? [])].sort();
    if (groups.join() !== wanted.join())
      problems.push(`task ENI groups ${groups.join()} ≠ service's ${wanted.join()}`);
  }
  if (problems.length > 0) throw new Error(`ECS jump host: ${problems.join("; ")}`);
  const target = ecsTargetString(cluster, taskId, container?.runtimeId ?? "");
  return `task ${taskId} RUNNING at ${address} in ${subnet} (${cidr}), no public address, ExecuteCommandAgent RUNNING → ${target}`;
}

/** Whether a dotted IPv4 address lies in an IPv4 CIDR block. */
export function inCidr(address: string, cidr: string): boolean {
  const toNumber = (dotted: string) => {
    const parts = dotted.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
    return parts.reduce((n, p) => n * 256 + p, 0);
  };
  const [base = "", bits = ""] = cidr.split("/");
  const a = toNumber(address);
  const b = toNumber(base);
  const prefix = /^\d{1,2}$/.test(bits) ? Number(bits) : -1;
  if (a === undefined || b === undefined || prefix < 0 || prefix > 32) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(a / size) === Math.floor(b / size);
}
