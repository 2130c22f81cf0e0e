/**
 * Finds dbtunnel stacks by the contract's tags when no outputs file is given: the jump host carries
 * `dbtunnel:stack=<name>` + `dbtunnel:role=jump-host` (EC2 instance or ECS service), the database
 * `dbtunnel:role=database` (RDS instance or Aurora cluster).
 */
import { ENGINE_FACTS, engineFromRds } from "../contract/engines.ts";
import { IAM_USERS_TAG, iamUsersFromTag, ROLE_TAG, ROLES, STACK_TAG } from "../contract/tags.ts";
import type { AwsClients } from "./aws.ts";
import { errorName } from "./errors.ts";
import type { DatabaseTarget, DbEngine, JumpHost } from "./target.ts";

export interface DiscoveredStack {
  readonly stackName: string;
  readonly jumpHosts: JumpHost[];
  readonly databases: DatabaseTarget[];
}

type Tag = { Key?: string; Value?: string };
const tagValue = (tags: readonly Tag[] | undefined, key: string) => tags?.find((t) => t.Key === key)?.Value;

export async function discoverStacks(aws: AwsClients, onlyStack?: string): Promise<DiscoveredStack[]> {
  const stacks = new Map<string, DiscoveredStack>();
  const entry = (name: string) => {
    let stack = stacks.get(name);
    if (!stack) {
      stack = { stackName: name, jumpHosts: [], databases: [] };
      stacks.set(name, stack);
    }
    return stack;
  };
  const wanted = (name: string | undefined): name is string => !!name && (!onlyStack || name === onlyStack);

  const [instances, services, databases] = await Promise.all([
    ec2JumpHosts(aws, onlyStack),
    ecsJumpHosts(aws),
    rdsDatabases(aws),
  ]);
  for (const { stack, jumpHost } of [...instances, ...services])
    if (wanted(stack)) entry(stack).jumpHosts.push(jumpHost);
  for (const { stack, db } of databases) if (wanted(stack)) entry(stack).databases.push(db);
  return [...stacks.values()].sort((a, b) => a.stackName.localeCompare(b.stackName));
}

async function ec2JumpHosts(aws: AwsClients, onlyStack?: string) {
  const { DescribeInstancesCommand } = await import("@aws-sdk/client-ec2");
  const ec2 = await aws.ec2();
  const found: { stack: string | undefined; jumpHost: JumpHost }[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: `tag:${ROLE_TAG}`, Values: [ROLES.jumpHost] },
          { Name: "instance-state-name", Values: ["pending", "running", "stopping", "stopped"] },
          ...(onlyStack ? [{ Name: `tag:${STACK_TAG}`, Values: [onlyStack] }] : []),
        ],
        NextToken,
      }),
    );
    for (const reservation of page.Reservations ?? []) {
      for (const instance of reservation.Instances ?? []) {
        if (!instance.InstanceId) continue;
        found.push({
          stack: tagValue(instance.Tags, STACK_TAG),
          jumpHost: { kind: "ec2", instanceId: instance.InstanceId },
        });
      }
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

async function ecsJumpHosts(aws: AwsClients) {
  const { ListClustersCommand, ListServicesCommand, DescribeServicesCommand } = await import(
    "@aws-sdk/client-ecs"
  );
  const ecs = await aws.ecs();
  const found: { stack: string | undefined; jumpHost: JumpHost }[] = [];
  try {
    const clusters = (await ecs.send(new ListClustersCommand({}))).clusterArns ?? [];
    for (const cluster of clusters) {
      const serviceArns = (await ecs.send(new ListServicesCommand({ cluster }))).serviceArns ?? [];
      // DescribeServices takes at most 10 services per call.
      for (let i = 0; i < serviceArns.length; i += 10) {
        const { services = [] } = await ecs.send(
          new DescribeServicesCommand({ cluster, services: serviceArns.slice(i, i + 10), include: ["TAGS"] }),
        );
        for (const service of services) {
          const tags = service.tags?.map((t) => ({ Key: t.key, Value: t.value }));
          if (tagValue(tags, ROLE_TAG) !== ROLES.jumpHost || !service.serviceName) continue;
          found.push({
            stack: tagValue(tags, STACK_TAG),
            jumpHost: { kind: "ecs", cluster: lastSegment(cluster), service: service.serviceName },
          });
        }
      }
    }
  } catch (error) {
    // Accounts that do not use ECS (or policies without ecs:List*) still work for EC2 jump hosts.
    if (!/AccessDenied|UnrecognizedClient|NotImplemented|UnknownOperation/i.test(errorName(error)))
      throw error;
  }
  return found;
}

async function rdsDatabases(aws: AwsClients) {
  const { DescribeDBInstancesCommand, DescribeDBClustersCommand } = await import("@aws-sdk/client-rds");
  const rds = await aws.rds();
  const found: { stack: string | undefined; db: DatabaseTarget }[] = [];
  let Marker: string | undefined;
  do {
    const page = await rds.send(new DescribeDBInstancesCommand({ Marker }));
    for (const db of page.DBInstances ?? []) {
      // Aurora members are reached through their cluster's endpoint, found below.
      if (db.DBClusterIdentifier || tagValue(db.TagList, ROLE_TAG) !== ROLES.database) continue;
      if (!db.Endpoint?.Address || !db.DBInstanceIdentifier) continue;
      found.push({
        stack: tagValue(db.TagList, STACK_TAG),
        db: {
          engine: engineOf(db.Engine),
          identifier: db.DBInstanceIdentifier,
          endpoint: db.Endpoint.Address,
          port: db.Endpoint.Port ?? defaultPort(engineOf(db.Engine)),
          resourceId: db.DbiResourceId,
          name: db.DBName,
          iamUsers: iamUsersFromTag(tagValue(db.TagList, IAM_USERS_TAG)),
          masterUsername: db.MasterUsername,
          iamAuthEnabled: db.IAMDatabaseAuthenticationEnabled,
        },
      });
    }
    Marker = page.Marker;
  } while (Marker);
  try {
    const clusters = (await rds.send(new DescribeDBClustersCommand({}))).DBClusters ?? [];
    for (const cluster of clusters) {
      if (
        tagValue(cluster.TagList, ROLE_TAG) !== ROLES.database ||
        !cluster.Endpoint ||
        !cluster.DBClusterIdentifier
      )
        continue;
      found.push({
        stack: tagValue(cluster.TagList, STACK_TAG),
        db: {
          engine: engineOf(cluster.Engine),
          identifier: cluster.DBClusterIdentifier,
          endpoint: cluster.Endpoint,
          port: cluster.Port ?? defaultPort(engineOf(cluster.Engine)),
          resourceId: cluster.DbClusterResourceId,
          name: cluster.DatabaseName,
          iamUsers: iamUsersFromTag(tagValue(cluster.TagList, IAM_USERS_TAG)),
          masterUsername: cluster.MasterUsername,
          iamAuthEnabled: cluster.IAMDatabaseAuthenticationEnabled,
        },
      });
    }
  } catch (error) {
    if (!/AccessDenied|NotImplemented/i.test(errorName(error))) throw error;
  }
  return found;
}

/** The contract's engine for RDS's `Engine` (mariadb speaks MySQL); anything else is taken as PostgreSQL. */
export function engineOf(engine: string | undefined): DbEngine {
  return engineFromRds(engine) ?? "postgres";
}

export function defaultPort(engine: DbEngine): number {
  return ENGINE_FACTS[engine].defaultPort;
}

function lastSegment(arn: string): string {
  return arn.split("/").pop() ?? arn;
}
