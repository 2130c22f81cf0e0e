import {
  asArray,
  asNumber,
  asObjects,
  asString,
  asStrings,
  exactReference,
  isTrue,
  resources,
  type TfBlock,
} from "./tf-json.ts";
import type { TerraformJson } from "./types.ts";

/**
 * One normalized security-group rule, whichever of the four Terraform spellings declared it: inline
 * `ingress`/`egress` on aws_security_group (or aws_default_security_group), aws_security_group_rule, or
 * aws_vpc_security_group_ingress_rule / egress_rule.
 */
export interface SgRule {
  /** Address of the Terraform block that declares the rule (the SG itself for inline rules). */
  readonly declaredBy: string;
  /** The group the rule belongs to: an address when it is a reference, else the literal id. */
  readonly group: string;
  readonly direction: "ingress" | "egress";
  /** Normalized: "-1" means all protocols. */
  readonly protocol: string;
  readonly fromPort: number | undefined;
  readonly toPort: number | undefined;
  /**
   * When both ports are the same reference (e.g. `${data.aws_db_instance.x.port}`): that address.attribute.
   * Lets rules recognise "the database port" of a database the stack only looks up.
   */
  readonly portReference: string | undefined;
  /** IPv4 and IPv6 CIDRs, literal or expressions. */
  readonly cidrs: string[];
  /** Peer groups: addresses for references, literal ids otherwise. `self` adds the group itself. */
  readonly peerGroups: string[];
  readonly prefixLists: string[];
}

const SG_TYPES = ["aws_security_group", "aws_default_security_group"] as const;

/** `${aws_security_group.x.id}` → `aws_security_group.x`; anything else is kept as written. */
export function groupKey(v: unknown): string {
  const ref = exactReference(v);
  if (
    ref &&
    (ref.address.startsWith("aws_security_group.") || ref.address.startsWith("aws_default_security_group."))
  )
    return ref.address;
  return asString(v) ?? "";
}

function portReference(from: unknown, to: unknown): string | undefined {
  const a = exactReference(from);
  const b = exactReference(to);
  if (!a || !b || a.address !== b.address || a.attribute !== b.attribute) return undefined;
  return `${a.address}.${a.attribute ?? ""}`;
}

function normProtocol(v: unknown): string {
  const p = (asString(v) ?? "-1").toLowerCase();
  if (p === "all" || p === "-1") return "-1";
  if (p === "6") return "tcp";
  if (p === "17") return "udp";
  return p;
}

function inlineRules(block: TfBlock): SgRule[] {
  const out: SgRule[] = [];
  for (const direction of ["ingress", "egress"] as const) {
    for (const r of asObjects(block.body[direction])) {
      out.push({
        declaredBy: block.address,
        group: block.address,
        direction,
        protocol: normProtocol(r.protocol),
        fromPort: asNumber(r.from_port),
        toPort: asNumber(r.to_port),
        portReference: portReference(r.from_port, r.to_port),
        cidrs: [...asStrings(r.cidr_blocks), ...asStrings(r.ipv6_cidr_blocks)],
        peerGroups: [...asArray(r.security_groups).map(groupKey), ...(isTrue(r.self) ? [block.address] : [])],
        prefixLists: asStrings(r.prefix_list_ids),
      });
    }
  }
  return out;
}

function legacyRule(block: TfBlock): SgRule {
  const b = block.body;
  const group = groupKey(b.security_group_id);
  return {
    declaredBy: block.address,
    group,
    direction: asString(b.type) === "egress" ? "egress" : "ingress",
    protocol: normProtocol(b.protocol),
    fromPort: asNumber(b.from_port),
    toPort: asNumber(b.to_port),
    portReference: portReference(b.from_port, b.to_port),
    cidrs: [...asStrings(b.cidr_blocks), ...asStrings(b.ipv6_cidr_blocks)],
    peerGroups: [
      ...(b.source_security_group_id === undefined ? [] : [groupKey(b.source_security_group_id)]),
      ...(isTrue(b.self) ? [group] : []),
    ],
    prefixLists: asStrings(b.prefix_list_ids),
  };
}

function vpcRule(block: TfBlock, direction: "ingress" | "egress"): SgRule {
  const b = block.body;
  const protocol = normProtocol(b.ip_protocol);
  return {
    declaredBy: block.address,
    group: groupKey(b.security_group_id),
    direction,
    protocol,
    // With ip_protocol -1 AWS ignores ports; with a port-less protocol they are absent.
    fromPort: asNumber(b.from_port),
    toPort: asNumber(b.to_port),
    portReference: portReference(b.from_port, b.to_port),
    cidrs: [asString(b.cidr_ipv4), asString(b.cidr_ipv6)].filter((x): x is string => x !== undefined),
    peerGroups:
      b.referenced_security_group_id === undefined ? [] : [groupKey(b.referenced_security_group_id)],
    prefixLists: b.prefix_list_id === undefined ? [] : [asString(b.prefix_list_id) ?? ""],
  };
}

/** Every security-group rule in the stack. */
export function allSgRules(tf: TerraformJson): SgRule[] {
  return [
    ...resources(tf, ...SG_TYPES).flatMap(inlineRules),
    ...resources(tf, "aws_security_group_rule").map(legacyRule),
    ...resources(tf, "aws_vpc_security_group_ingress_rule").map((b) => vpcRule(b, "ingress")),
    ...resources(tf, "aws_vpc_security_group_egress_rule").map((b) => vpcRule(b, "egress")),
  ];
}

export function allGroups(tf: TerraformJson): TfBlock[] {
  return resources(tf, ...SG_TYPES);
}

export function allPorts(rule: SgRule): boolean {
  if (rule.protocol === "-1") return true;
  return (rule.fromPort ?? 0) <= 0 && (rule.toPort ?? 65535) >= 65535;
}

/** Whether the rule admits TCP traffic on `port`. */
export function coversPort(rule: SgRule, port: number): boolean {
  if (rule.protocol === "-1") return true;
  if (rule.protocol !== "tcp") return false;
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65535;
  return from <= port && port <= to;
}

/** Whether the rule is TCP on exactly `port` (not a range around it). */
export function exactlyPort(rule: SgRule, port: number): boolean {
  return rule.protocol === "tcp" && rule.fromPort === port && rule.toPort === port;
}

export function describeRule(r: SgRule): string {
  const ports =
    r.protocol === "-1"
      ? "all traffic"
      : r.portReference !== undefined
        ? `${r.protocol}/\${${r.portReference}}`
        : r.fromPort === r.toPort
          ? `${r.protocol}/${r.fromPort}`
          : `${r.protocol}/${r.fromPort}-${r.toPort}`;
  const peers = [...r.cidrs, ...r.peerGroups, ...r.prefixLists];
  return `${r.direction} ${ports} ${r.direction === "ingress" ? "from" : "to"} ${peers.join(", ") || "nothing"}`;
}

export const OPEN_CIDRS = new Set(["0.0.0.0/0", "::/0"]);

export function isOpenCidr(c: string): boolean {
  return OPEN_CIDRS.has(c.trim());
}
