import { groupKey } from "./security-groups.ts";
import {
  asArray,
  asNumber,
  asObject,
  asObjects,
  asString,
  exactReference,
  hasRole,
  isTrue,
  resources,
  type TfBlock,
} from "./tf-json.ts";
import type { TerraformJson } from "./types.ts";

/**
 * Who is who in the stack: the jump host (by the `dbtunnel:role = jump-host` tag of the contract), the
 * database, the endpoint groups. Rules about "the jump host's security group" resolve it here once.
 */

export function jumpHosts(tf: TerraformJson): TfBlock[] {
  return [
    ...resources(tf, "aws_instance").filter((b) => hasRole(tf, b, "jump-host")),
    ...resources(tf, "aws_ecs_service").filter((b) => hasRole(tf, b, "jump-host")),
  ];
}

function groupsOfHost(host: TfBlock): string[] {
  if (host.type === "aws_ecs_service") {
    const net = asObject(host.body.network_configuration);
    return asArray(net?.security_groups).map(groupKey);
  }
  return [...asArray(host.body.vpc_security_group_ids), ...asArray(host.body.security_groups)].map(groupKey);
}

/** Security groups of the jump host(s): addresses for groups in the stack, literal ids otherwise. */
export function jumpHostGroups(tf: TerraformJson): Set<string> {
  return new Set(
    jumpHosts(tf)
      .flatMap(groupsOfHost)
      .filter((g) => g !== ""),
  );
}

export const DB_TYPES = ["aws_db_instance", "aws_rds_cluster"] as const;

export function databases(tf: TerraformJson): TfBlock[] {
  // An aws_db_instance inside a cluster is configured through its cluster.
  return resources(tf, ...DB_TYPES).filter(
    (b) => b.body.cluster_identifier === undefined || b.type !== "aws_db_instance",
  );
}

export function databaseEngine(db: TfBlock): string {
  return (asString(db.body.engine) ?? "").toLowerCase();
}

export function isMysqlFamily(engine: string): boolean {
  return engine.includes("mysql") || engine.includes("mariadb");
}

export function databasePort(db: TfBlock): number | undefined {
  const port = asNumber(db.body.port);
  if (port !== undefined) return port;
  if (db.body.port !== undefined) return undefined; // an expression: cannot know
  return isMysqlFamily(databaseEngine(db)) ? 3306 : 5432;
}

export function groupsOfDatabase(db: TfBlock): string[] {
  return asArray(db.body.vpc_security_group_ids)
    .map(groupKey)
    .filter((g) => g !== "");
}

/** Interface endpoints and their security groups. */
export function interfaceEndpoints(tf: TerraformJson): TfBlock[] {
  return resources(tf, "aws_vpc_endpoint").filter(
    (b) => (asString(b.body.vpc_endpoint_type) ?? "Gateway").toLowerCase() === "interface",
  );
}

export function endpointGroups(tf: TerraformJson): Set<string> {
  return new Set(
    interfaceEndpoints(tf)
      .flatMap((e) => asArray(e.body.security_group_ids).map(groupKey))
      .filter((g) => g !== ""),
  );
}

/** Service short name of an endpoint: `com.amazonaws.${var.region}.ssm` → `ssm`. */
export function endpointService(endpoint: TfBlock): string {
  const name = asString(endpoint.body.service_name) ?? "";
  const last = name.split(".").pop() ?? "";
  return last.replace(/\}$/, "");
}

/** Addresses of aws_subnet blocks a value references. */
export function subnetAddresses(v: unknown): string[] {
  return asArray(v)
    .map((x) => exactReference(x)?.address)
    .filter((a): a is string => a?.startsWith("aws_subnet.") === true);
}

/** `${aws_internet_gateway.x.id}` or a literal igw- id. */
function isInternetGateway(v: unknown): boolean {
  const ref = exactReference(v);
  if (ref) return ref.address.startsWith("aws_internet_gateway.");
  return /^igw-[0-9a-f]+$/.test(asString(v) ?? "");
}

/**
 * Public subnets by AWS's definition: their route table routes to an internet gateway (or they hand out
 * public IPs on launch). Everything else the stack creates is private.
 */
export function publicSubnets(tf: TerraformJson): Set<string> {
  const internetTables = new Set<string>();
  for (const r of resources(tf, "aws_route")) {
    const table = exactReference(r.body.route_table_id)?.address;
    if (table && isInternetGateway(r.body.gateway_id)) internetTables.add(table);
  }
  for (const t of resources(tf, "aws_route_table")) {
    if (asObjects(t.body.route).some((r) => isInternetGateway(r.gateway_id))) internetTables.add(t.address);
  }
  const out = new Set<string>();
  for (const a of resources(tf, "aws_route_table_association")) {
    const subnet = exactReference(a.body.subnet_id)?.address;
    const table = exactReference(a.body.route_table_id)?.address;
    if (subnet && table && internetTables.has(table)) out.add(subnet);
  }
  for (const s of resources(tf, "aws_subnet")) if (isTrue(s.body.map_public_ip_on_launch)) out.add(s.address);
  return out;
}
