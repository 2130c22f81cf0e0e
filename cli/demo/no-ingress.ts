/**
 * Step 7 of the e2e flow: prove "zero inbound ports" against the LIVE APIs, not the synthesized JSON
 * (policy/ already checks that): what Terraform actually created is what an attacker would meet.
 *
 * `collectIngressSnapshot` reads the account; `evaluateIngress` is a pure function over that snapshot so
 * each rule is testable with hand-made snapshots and the collector with a real moto.
 */
import {
  DescribeInstancesCommand,
  DescribeInternetGatewaysCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type Filter,
  type IpPermission,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { DescribeServicesCommand, type ECSClient } from "@aws-sdk/client-ecs";
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, type RDSClient } from "@aws-sdk/client-rds";
import { ROLE_TAG, STACK_TAG } from "../../contract/tags.ts";

export interface JumpHostFacts {
  readonly kind: "ec2" | "ecs";
  /** Instance id, or `<cluster>/<service>` for ECS. */
  readonly id: string;
  readonly securityGroupIds: readonly string[];
  /** Public IPv4 address(es) the jump host has; must be empty. */
  readonly publicIps: readonly string[];
  /** ECS `assignPublicIp`; undefined for EC2. */
  readonly assignPublicIp?: boolean;
  /** Tags on the instance/service (contract: dbtunnel:stack and dbtunnel:role = jump-host). */
  readonly tags: Readonly<Record<string, string>>;
}

export interface DatabaseFacts {
  readonly id: string;
  readonly publiclyAccessible: boolean;
  readonly securityGroupIds: readonly string[];
}

export interface IngressSnapshot {
  readonly stackName: string;
  readonly vpcIds: readonly string[];
  /** Every group tagged with the stack plus every group in the stack's VPCs (e.g. the default group). */
  readonly securityGroups: readonly SecurityGroup[];
  readonly jumpHost: JumpHostFacts | undefined;
  readonly databases: readonly DatabaseFacts[];
  /** Internet gateways attached to a stack VPC or tagged with the stack. */
  readonly internetGatewayIds: readonly string[];
}

export interface Finding {
  readonly ok: boolean;
  /** Short rule label, e.g. "jump-host-sg-no-ingress". */
  readonly check: string;
  readonly message: string;
}

export function evaluateIngress(s: IngressSnapshot): Finding[] {
  const findings: Finding[] = [];
  const add = (ok: boolean, check: string, message: string) => findings.push({ ok, check, message });
  const tagged = s.securityGroups.filter((g) => tagOf(g.Tags, STACK_TAG) === s.stackName);

  add(
    tagged.length > 0,
    "stack-sgs-found",
    tagged.length > 0
      ? `${tagged.length} security groups tagged ${STACK_TAG}=${s.stackName}`
      : `no security group is tagged ${STACK_TAG}=${s.stackName}: the stack's tags are missing, so nothing else here can be trusted`,
  );

  const jump = s.jumpHost;
  if (!jump) {
    add(false, "jump-host-found", `no jump host found for stack ${s.stackName}`);
  } else {
    const role = jump.tags[ROLE_TAG];
    add(
      jump.tags[STACK_TAG] === s.stackName && role === "jump-host",
      "jump-host-tags",
      `jump host ${jump.id} tags: ${STACK_TAG}=${jump.tags[STACK_TAG] ?? "(missing)"}, ${ROLE_TAG}=${role ?? "(missing)"}`,
    );
    add(
      jump.publicIps.length === 0 && jump.assignPublicIp !== true,
      "jump-host-no-public-ip",
      jump.publicIps.length === 0 && jump.assignPublicIp !== true
        ? `jump host ${jump.id} has no public IP`
        : `jump host ${jump.id} has a public IP (${jump.publicIps.join(", ") || "assignPublicIp=ENABLED"})`,
    );
    add(
      jump.securityGroupIds.length > 0,
      "jump-host-sg-found",
      `jump host ${jump.id} security groups: ${jump.securityGroupIds.join(", ") || "(none)"}`,
    );
    for (const id of jump.securityGroupIds) {
      const group = s.securityGroups.find((g) => g.GroupId === id);
      const rules = group?.IpPermissions ?? [];
      add(
        group !== undefined && rules.length === 0,
        "jump-host-sg-no-ingress",
        group === undefined
          ? `jump host security group ${id} was not returned by DescribeSecurityGroups`
          : rules.length === 0
            ? `jump host group ${label(group)} has no ingress rule`
            : `jump host group ${label(group)} has ingress: ${rules.map(describeRule).join("; ")}`,
      );
    }
  }

  const jumpGroups = new Set(jump?.securityGroupIds ?? []);
  for (const group of s.securityGroups) {
    const cidrRules = (group.IpPermissions ?? []).filter(admitsAddressRange);
    add(
      cidrRules.length === 0,
      "no-cidr-ingress",
      cidrRules.length === 0
        ? `${label(group)} admits no CIDR or prefix list`
        : `${label(group)} admits address ranges: ${cidrRules.map(describeRule).join("; ")}`,
    );
    // Without the jump host's group the sources cannot be judged; that is reported once, below.
    if (jumpGroups.size === 0 || jumpGroups.has(group.GroupId ?? "") || !tagged.includes(group)) continue;
    const foreign = (group.IpPermissions ?? []).flatMap((rule) =>
      (rule.UserIdGroupPairs ?? [])
        .filter((pair) => !jumpGroups.has(pair.GroupId ?? ""))
        .map((pair) => `${ports(rule)} from ${pair.GroupId ?? "?"}`),
    );
    const sources = (group.IpPermissions ?? []).map(describeRule);
    add(
      foreign.length === 0,
      "ingress-only-from-jump-host",
      foreign.length === 0
        ? `${label(group)} admits ${sources.length === 0 ? "nothing" : `only the jump host group (${sources.join("; ")})`}`
        : `${label(group)} admits groups other than the jump host's: ${foreign.join("; ")}`,
    );
  }

  if (jump && jumpGroups.size === 0) {
    add(
      false,
      "ingress-only-from-jump-host",
      "which groups the database and endpoint groups admit cannot be checked: the jump host reports no security group",
    );
  }

  add(
    s.databases.length > 0,
    "database-found",
    s.databases.length > 0 ? `databases: ${s.databases.map((d) => d.id).join(", ")}` : "no database found",
  );
  for (const db of s.databases) {
    add(
      !db.publiclyAccessible,
      "database-not-public",
      db.publiclyAccessible
        ? `database ${db.id} is publicly accessible`
        : `database ${db.id} is not publicly accessible`,
    );
    const untracked = db.securityGroupIds.filter((id) => !s.securityGroups.some((g) => g.GroupId === id));
    add(
      untracked.length === 0,
      "database-sgs-checked",
      untracked.length === 0
        ? `database ${db.id} groups ${db.securityGroupIds.join(", ")} were all checked`
        : `database ${db.id} uses groups outside the stack that were not checked: ${untracked.join(", ")}`,
    );
  }

  add(
    s.internetGatewayIds.length === 0,
    "no-internet-gateway",
    s.internetGatewayIds.length === 0
      ? `no internet gateway on ${s.vpcIds.join(", ") || "the stack VPC"}`
      : `internet gateways exist: ${s.internetGatewayIds.join(", ")}`,
  );
  return findings;
}

/** Any CIDR (v4 or v6) or prefix list counts: the design admits traffic only by security-group reference. */
function admitsAddressRange(rule: IpPermission): boolean {
  return (
    (rule.IpRanges ?? []).length > 0 ||
    (rule.Ipv6Ranges ?? []).length > 0 ||
    (rule.PrefixListIds ?? []).length > 0
  );
}

function describeRule(rule: IpPermission): string {
  const sources = [
    ...(rule.IpRanges ?? []).map((r) => r.CidrIp ?? "?"),
    ...(rule.Ipv6Ranges ?? []).map((r) => r.CidrIpv6 ?? "?"),
    ...(rule.PrefixListIds ?? []).map((p) => p.PrefixListId ?? "?"),
    ...(rule.UserIdGroupPairs ?? []).map((p) => p.GroupId ?? "?"),
  ];
  return `${ports(rule)} from ${sources.join(", ") || "(nothing)"}`;
}

function ports(rule: IpPermission): string {
  if (rule.IpProtocol === "-1") return "all traffic";
  const range = rule.FromPort === rule.ToPort ? `${rule.FromPort}` : `${rule.FromPort}-${rule.ToPort}`;
  return `${rule.IpProtocol}/${range}`;
}

function label(group: SecurityGroup): string {
  return `${group.GroupId} (${group.GroupName})`;
}

export function tagOf(
  tags: readonly { Key?: string; Value?: string }[] | undefined,
  key: string,
): string | undefined {
  return tags?.find((t) => t.Key === key)?.Value;
}

function tagRecord(tags: readonly { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key) out[t.Key] = t.Value ?? "";
  return out;
}

export interface CollectOptions {
  readonly stackName: string;
  readonly jumpHost:
    | { readonly kind: "ec2"; readonly instanceId: string }
    | { readonly kind: "ecs"; readonly cluster: string; readonly service: string };
  readonly database: { readonly engine: string; readonly identifier: string };
  readonly ec2: EC2Client;
  readonly rds: RDSClient;
  readonly ecs?: ECSClient;
}

export async function collectIngressSnapshot(o: CollectOptions): Promise<IngressSnapshot> {
  const tagged = await describeGroups(o.ec2, [{ Name: `tag:${STACK_TAG}`, Values: [o.stackName] }]);
  const jumpHost = await describeJumpHost(o);
  const vpcIds = [
    ...new Set(
      [...tagged.map((g) => g.VpcId), jumpHost?.vpcId].filter(
        (v): v is string => typeof v === "string" && v !== "",
      ),
    ),
  ];
  const inVpcs = vpcIds.length > 0 ? await describeGroups(o.ec2, [{ Name: "vpc-id", Values: vpcIds }]) : [];
  const groups = new Map<string, SecurityGroup>();
  for (const g of [...tagged, ...inVpcs]) if (g.GroupId) groups.set(g.GroupId, g);

  const igws = new Set<string>();
  const igwFilters: Filter[][] = [[{ Name: `tag:${STACK_TAG}`, Values: [o.stackName] }]];
  if (vpcIds.length > 0) igwFilters.push([{ Name: "attachment.vpc-id", Values: vpcIds }]);
  for (const Filters of igwFilters) {
    const out = await o.ec2.send(new DescribeInternetGatewaysCommand({ Filters }));
    for (const igw of out.InternetGateways ?? []) if (igw.InternetGatewayId) igws.add(igw.InternetGatewayId);
  }

  return {
    stackName: o.stackName,
    vpcIds,
    securityGroups: [...groups.values()],
    jumpHost: jumpHost?.facts,
    databases: await describeDatabases(o),
    internetGatewayIds: [...igws],
  };
}

async function describeGroups(ec2: EC2Client, Filters: Filter[]): Promise<SecurityGroup[]> {
  const groups: SecurityGroup[] = [];
  let NextToken: string | undefined;
  do {
    const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters, NextToken }));
    groups.push(...(out.SecurityGroups ?? []));
    NextToken = out.NextToken;
  } while (NextToken);
  return groups;
}

async function describeJumpHost(
  o: CollectOptions,
): Promise<{ facts: JumpHostFacts; vpcId?: string } | undefined> {
  if (o.jumpHost.kind === "ec2") {
    const out = await o.ec2.send(new DescribeInstancesCommand({ InstanceIds: [o.jumpHost.instanceId] }));
    const instance = out.Reservations?.flatMap((r) => r.Instances ?? [])[0];
    if (!instance) return undefined;
    const publicIps = new Set<string>();
    if (instance.PublicIpAddress) publicIps.add(instance.PublicIpAddress);
    for (const eni of instance.NetworkInterfaces ?? []) {
      if (eni.Association?.PublicIp) publicIps.add(eni.Association.PublicIp);
    }
    return {
      vpcId: instance.VpcId,
      facts: {
        kind: "ec2",
        id: instance.InstanceId ?? o.jumpHost.instanceId,
        securityGroupIds: (instance.SecurityGroups ?? []).map((g) => g.GroupId ?? "").filter(Boolean),
        publicIps: [...publicIps],
        tags: tagRecord(instance.Tags),
      },
    };
  }
  if (!o.ecs) throw new Error("collectIngressSnapshot: an ECS client is needed for an ECS jump host");
  const out = await o.ecs.send(
    new DescribeServicesCommand({
      cluster: o.jumpHost.cluster,
      services: [o.jumpHost.service],
      include: ["TAGS"],
    }),
  );
  const service = out.services?.[0];
  if (!service) return undefined;
  const vpc = service.networkConfiguration?.awsvpcConfiguration;
  return {
    facts: {
      kind: "ecs",
      id: `${o.jumpHost.cluster}/${o.jumpHost.service}`,
      securityGroupIds: vpc?.securityGroups ?? [],
      publicIps: [],
      assignPublicIp: vpc?.assignPublicIp === "ENABLED",
      tags: Object.fromEntries((service.tags ?? []).map((t) => [t.key ?? "", t.value ?? ""])),
    },
  };
}

async function describeDatabases(o: CollectOptions): Promise<DatabaseFacts[]> {
  const instances = [];
  if (o.database.engine.startsWith("aurora")) {
    const clusters = await o.rds.send(
      new DescribeDBClustersCommand({ DBClusterIdentifier: o.database.identifier }),
    );
    const members = clusters.DBClusters?.[0]?.DBClusterMembers ?? [];
    for (const m of members) {
      if (!m.DBInstanceIdentifier) continue;
      const out = await o.rds.send(
        new DescribeDBInstancesCommand({ DBInstanceIdentifier: m.DBInstanceIdentifier }),
      );
      instances.push(...(out.DBInstances ?? []));
    }
  } else {
    const out = await o.rds.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: o.database.identifier }),
    );
    instances.push(...(out.DBInstances ?? []));
  }
  return instances.map((db) => ({
    id: db.DBInstanceIdentifier ?? "?",
    publiclyAccessible: db.PubliclyAccessible === true,
    securityGroupIds: (db.VpcSecurityGroups ?? []).map((g) => g.VpcSecurityGroupId ?? "").filter(Boolean),
  }));
}

/** Evidence lines for the report: every check, passing or not. */
export function renderFindings(findings: readonly Finding[]): string {
  return findings.map((f) => `${f.ok ? "✓" : "✗"} ${f.message}`).join("\n");
}
