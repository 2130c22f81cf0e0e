/**
 * Step 8's second half: after `cdktf destroy`, prove nothing of the stack is left. Three sources, because
 * each one alone has blind spots:
 * - the resources Terraform itself recorded (state snapshot taken just before destroy), checked one by one
 *   with a direct describe (IAM is not in the tagging API at all);
 * - the Resource Groups Tagging API swept for `dbtunnel:stack=<name>` (catches what the state lost);
 * - tag-filtered EC2 describes (instances, groups, VPCs, subnets, endpoints), the most expensive leftovers.
 * Things AWS keeps on purpose after deletion (KMS keys pending deletion, secrets in their recovery window,
 * terminated instances) are not leftovers.
 */
import { DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  DescribeVpcsCommand,
} from "@aws-sdk/client-ec2";
import { DescribeClustersCommand, DescribeServicesCommand, DescribeTasksCommand } from "@aws-sdk/client-ecs";
import { GetInstanceProfileCommand, GetPolicyCommand, GetRoleCommand } from "@aws-sdk/client-iam";
import { DescribeKeyCommand } from "@aws-sdk/client-kms";
import {
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBParameterGroupsCommand,
  DescribeDBSubnetGroupsCommand,
} from "@aws-sdk/client-rds";
import { GetResourcesCommand } from "@aws-sdk/client-resource-groups-tagging-api";
import { HeadBucketCommand } from "@aws-sdk/client-s3";
import { DescribeSecretCommand } from "@aws-sdk/client-secrets-manager";
import { DescribeDocumentCommand } from "@aws-sdk/client-ssm";
import { STACK_TAG } from "../../contract/tags.ts";
import type { AwsClients } from "./aws-clients.ts";

/** One resource Terraform had in state. */
export interface DeployedResource {
  readonly type: string;
  readonly address: string;
  readonly id: string;
  readonly arn?: string;
  readonly name?: string;
}

export interface Leftover {
  /** Terraform address, ARN or id. */
  readonly resource: string;
  /** Why it counts: "still exists (state running)", "could not verify: ...". */
  readonly reason: string;
}

interface TfStateModule {
  resources?: { mode?: string; type?: string; address?: string; values?: Record<string, unknown> }[];
  child_modules?: TfStateModule[];
}

/** Managed resources from `terraform show -json` output. */
export function resourcesFromShowJson(json: unknown): DeployedResource[] {
  const root = (json as { values?: { root_module?: TfStateModule } } | null)?.values?.root_module;
  const out: DeployedResource[] = [];
  const walk = (m: TfStateModule | undefined) => {
    for (const r of m?.resources ?? []) {
      if (r.mode !== "managed" || !r.type || !r.address) continue;
      const v = r.values ?? {};
      const str = (k: string) => (typeof v[k] === "string" && v[k] !== "" ? (v[k] as string) : undefined);
      out.push({
        type: r.type,
        address: r.address,
        id: str("id") ?? "",
        arn: str("arn"),
        name: str("name") ?? str("identifier") ?? str("bucket"),
      });
    }
    for (const child of m?.child_modules ?? []) walk(child);
  };
  walk(root);
  return out;
}

/** undefined = gone (or kept by AWS on purpose); a string = what is still there. */
type Probe = (c: AwsClients, r: DeployedResource) => Promise<string | undefined>;

const GONE_ERROR =
  /NotFound|NoSuch|InvalidDocument|DBInstanceNotFound|DBClusterNotFound|ResourceNotFound|^404$|NotFoundException/i;

async function exists(call: () => Promise<string | undefined>): Promise<string | undefined> {
  try {
    return await call();
  } catch (error) {
    const name = (error as { name?: string; Code?: string }).name ?? "";
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (GONE_ERROR.test(name) || status === 404) return undefined;
    throw error;
  }
}

/** Direct probes for the main resource types of the stack. */
const PROBES: Record<string, Probe> = {
  aws_instance: (c, r) =>
    exists(async () => {
      const out = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [r.id] }));
      const state = out.Reservations?.[0]?.Instances?.[0]?.State?.Name;
      return state && state !== "terminated" && state !== "shutting-down"
        ? `instance is ${state}`
        : undefined;
    }),
  aws_security_group: (c, r) =>
    exists(async () => {
      const out = await c.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [r.id] }));
      return (out.SecurityGroups ?? []).length > 0 ? "security group exists" : undefined;
    }),
  aws_vpc: (c, r) =>
    exists(async () => {
      const out = await c.ec2.send(new DescribeVpcsCommand({ VpcIds: [r.id] }));
      return (out.Vpcs ?? []).length > 0 ? "VPC exists" : undefined;
    }),
  aws_subnet: (c, r) =>
    exists(async () => {
      const out = await c.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [r.id] }));
      return (out.Subnets ?? []).length > 0 ? "subnet exists" : undefined;
    }),
  aws_vpc_endpoint: (c, r) =>
    exists(async () => {
      const out = await c.ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [r.id] }));
      const state = out.VpcEndpoints?.[0]?.State;
      return state && state.toLowerCase() !== "deleted" ? `endpoint is ${state}` : undefined;
    }),
  aws_internet_gateway: (c, r) =>
    exists(async () => {
      const out = await c.ec2.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [r.id] }));
      return (out.InternetGateways ?? []).length > 0 ? "internet gateway exists" : undefined;
    }),
  aws_nat_gateway: (c, r) =>
    exists(async () => {
      const out = await c.ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [r.id] }));
      const state = out.NatGateways?.[0]?.State;
      return state && state !== "deleted" ? `NAT gateway is ${state}` : undefined;
    }),
  aws_eip: (c, r) =>
    exists(async () => {
      const out = await c.ec2.send(new DescribeAddressesCommand({ AllocationIds: [r.id] }));
      return (out.Addresses ?? []).length > 0 ? "Elastic IP is allocated" : undefined;
    }),
  aws_db_instance: (c, r) =>
    exists(async () => {
      const out = await c.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: r.name ?? r.id }));
      const status = out.DBInstances?.[0]?.DBInstanceStatus;
      return status ? `database is ${status}` : undefined;
    }),
  aws_rds_cluster: (c, r) =>
    exists(async () => {
      const out = await c.rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: r.id }));
      const status = out.DBClusters?.[0]?.Status;
      return status ? `cluster is ${status}` : undefined;
    }),
  aws_db_subnet_group: (c, r) =>
    exists(async () => {
      const out = await c.rds.send(new DescribeDBSubnetGroupsCommand({ DBSubnetGroupName: r.id }));
      return (out.DBSubnetGroups ?? []).length > 0 ? "DB subnet group exists" : undefined;
    }),
  aws_db_parameter_group: (c, r) =>
    exists(async () => {
      const out = await c.rds.send(new DescribeDBParameterGroupsCommand({ DBParameterGroupName: r.id }));
      return (out.DBParameterGroups ?? []).length > 0 ? "DB parameter group exists" : undefined;
    }),
  aws_iam_role: (c, r) =>
    exists(async () => {
      await c.iam.send(new GetRoleCommand({ RoleName: r.name ?? r.id }));
      return "IAM role exists";
    }),
  aws_iam_policy: (c, r) =>
    exists(async () => {
      await c.iam.send(new GetPolicyCommand({ PolicyArn: r.arn ?? r.id }));
      return "IAM policy exists";
    }),
  aws_iam_instance_profile: (c, r) =>
    exists(async () => {
      await c.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: r.name ?? r.id }));
      return "instance profile exists";
    }),
  aws_s3_bucket: (c, r) =>
    exists(async () => {
      await c.s3.send(new HeadBucketCommand({ Bucket: r.name ?? r.id }));
      return "bucket exists";
    }),
  aws_kms_key: (c, r) =>
    exists(async () => {
      const out = await c.kms.send(new DescribeKeyCommand({ KeyId: r.id }));
      const state = out.KeyMetadata?.KeyState;
      // AWS keeps a deleted key for its waiting period (7-30 days); that is the expected end state.
      return state && state !== "PendingDeletion" ? `KMS key is ${state}` : undefined;
    }),
  aws_cloudwatch_log_group: (c, r) =>
    exists(async () => {
      const name = r.name ?? r.id;
      const out = await c.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
      return (out.logGroups ?? []).some((g) => g.logGroupName === name) ? "log group exists" : undefined;
    }),
  aws_ssm_document: (c, r) =>
    exists(async () => {
      await c.ssm.send(new DescribeDocumentCommand({ Name: r.name ?? r.id }));
      return "SSM document exists";
    }),
  aws_secretsmanager_secret: (c, r) =>
    exists(async () => {
      const out = await c.secrets.send(new DescribeSecretCommand({ SecretId: r.arn ?? r.id }));
      return out.DeletedDate ? undefined : "secret exists";
    }),
  aws_ecs_cluster: (c, r) =>
    exists(async () => {
      const out = await c.ecs.send(new DescribeClustersCommand({ clusters: [r.arn ?? r.id] }));
      const status = out.clusters?.[0]?.status;
      return status && status !== "INACTIVE" ? `ECS cluster is ${status}` : undefined;
    }),
  aws_ecs_service: (c, r) =>
    exists(async () => {
      const [cluster, service] = r.id.includes("/") ? r.id.split("/").slice(-2) : [undefined, r.id];
      const out = await c.ecs.send(
        new DescribeServicesCommand({ cluster: cluster ?? undefined, services: [r.arn ?? service ?? r.id] }),
      );
      const status = out.services?.[0]?.status;
      return status && status !== "INACTIVE" ? `ECS service is ${status}` : undefined;
    }),
  // Not a Terraform resource: the service's tasks carry its tags (propagateTags), and a stopped task stays
  // describable (and tagged) for a while after its service is gone, as AWS keeps it.
  ecs_task: (c, r) =>
    exists(async () => {
      const [cluster, task] = r.id.split("/").slice(-2);
      const out = await c.ecs.send(new DescribeTasksCommand({ cluster, tasks: [r.arn ?? task ?? r.id] }));
      const status = out.tasks?.[0]?.lastStatus;
      return status && status !== "STOPPED" ? `ECS task is ${status}` : undefined;
    }),
};

/** Types whose probes the state sweep uses (exported for the report). */
export const PROBED_TYPES = Object.keys(PROBES);

/** Maps a tagged ARN to a probe, so the tagging sweep ignores what AWS keeps on purpose. */
function probeForArn(arn: string): { probe: Probe; resource: DeployedResource } | undefined {
  const [, , service, , , ...rest] = arn.split(":");
  const resource = rest.join(":");
  const slash = resource.indexOf("/");
  const kind = slash === -1 ? resource.split(":")[0] : resource.slice(0, slash);
  const id = slash === -1 ? resource.split(":").slice(1).join(":") : resource.slice(slash + 1);
  const pick = (type: string, extra: Partial<DeployedResource> = {}) => {
    const probe = PROBES[type];
    return probe ? { probe, resource: { type, address: arn, id, arn, ...extra } } : undefined;
  };
  switch (`${service}:${kind}`) {
    case "ec2:instance":
      return pick("aws_instance");
    case "ec2:security-group":
      return pick("aws_security_group");
    case "ec2:vpc":
      return pick("aws_vpc");
    case "ec2:subnet":
      return pick("aws_subnet");
    case "ec2:vpc-endpoint":
      return pick("aws_vpc_endpoint");
    case "ec2:internet-gateway":
      return pick("aws_internet_gateway");
    case "ec2:natgateway":
      return pick("aws_nat_gateway");
    case "ec2:elastic-ip":
      return pick("aws_eip");
    case "rds:db":
      return pick("aws_db_instance", { name: id });
    case "rds:cluster":
      return pick("aws_rds_cluster");
    case "rds:subgrp":
      return pick("aws_db_subnet_group");
    case "rds:pg":
      return pick("aws_db_parameter_group");
    case "kms:key":
      return pick("aws_kms_key");
    case "secretsmanager:secret":
      return pick("aws_secretsmanager_secret");
    case "logs:log-group":
      return pick("aws_cloudwatch_log_group", { name: id.replace(/:\*$/, "") });
    case "ssm:document":
      return pick("aws_ssm_document", { name: id });
    case "ecs:cluster":
      return pick("aws_ecs_cluster");
    case "ecs:service":
      return pick("aws_ecs_service");
    case "ecs:task":
      return pick("ecs_task");
    default:
      if (service === "s3" && resource && !resource.includes("/"))
        return pick("aws_s3_bucket", { name: resource });
      return undefined;
  }
}

export interface LeftoverOptions {
  readonly stackName: string;
  readonly clients: AwsClients;
  /** State snapshot taken before destroy; empty when the deploy never produced state. */
  readonly deployed: readonly DeployedResource[];
}

export async function findLeftovers(o: LeftoverOptions): Promise<Leftover[]> {
  // Keyed by the resource's own id, so one group found by state, tag sweep and describe is reported once.
  const found = new Map<string, Leftover>();
  const note = (resource: string, reason: string, id = resource) => {
    if (!found.has(id)) found.set(id, { resource, reason });
  };
  const probe = async (p: Probe, r: DeployedResource, label: string) => {
    try {
      const still = await p(o.clients, r);
      if (still) note(label, still, r.id || label);
    } catch (error) {
      const why = `could not verify it is gone: ${(error as Error).name}: ${(error as Error).message.split("\n")[0]}`;
      note(label, why, r.id || label);
    }
  };

  // 1. Everything Terraform had in state, by its id.
  for (const r of o.deployed) {
    const p = PROBES[r.type];
    if (p && r.id) await probe(p, r, `${r.address} (${r.id})`);
  }

  // 2. The tagging API.
  let PaginationToken: string | undefined;
  do {
    const out = await o.clients.tagging.send(
      new GetResourcesCommand({ TagFilters: [{ Key: STACK_TAG, Values: [o.stackName] }], PaginationToken }),
    );
    for (const mapping of out.ResourceTagMappingList ?? []) {
      const arn = mapping.ResourceARN;
      if (!arn) continue;
      const known = probeForArn(arn);
      if (known) await probe(known.probe, known.resource, arn);
      else note(arn, "still tagged with the stack (type not probed; check it by hand)");
    }
    PaginationToken = out.PaginationToken || undefined;
  } while (PaginationToken);

  // 3. Tag-filtered EC2 describes.
  const Filters = [{ Name: `tag:${STACK_TAG}`, Values: [o.stackName] }];
  const instances = await o.clients.ec2.send(new DescribeInstancesCommand({ Filters }));
  for (const i of instances.Reservations?.flatMap((r) => r.Instances ?? []) ?? []) {
    const state = i.State?.Name;
    if (state !== "terminated" && state !== "shutting-down")
      note(i.InstanceId ?? "instance", `instance is ${state}`);
  }
  for (const g of (await o.clients.ec2.send(new DescribeSecurityGroupsCommand({ Filters }))).SecurityGroups ??
    []) {
    note(g.GroupId ?? "security group", "security group exists");
  }
  for (const v of (await o.clients.ec2.send(new DescribeVpcsCommand({ Filters }))).Vpcs ?? []) {
    note(v.VpcId ?? "vpc", "VPC exists");
  }
  for (const s of (await o.clients.ec2.send(new DescribeSubnetsCommand({ Filters }))).Subnets ?? []) {
    note(s.SubnetId ?? "subnet", "subnet exists");
  }
  for (const e of (await o.clients.ec2.send(new DescribeVpcEndpointsCommand({ Filters }))).VpcEndpoints ??
    []) {
    if (e.State?.toLowerCase() !== "deleted") note(e.VpcEndpointId ?? "endpoint", `endpoint is ${e.State}`);
  }
  return [...found.values()];
}
