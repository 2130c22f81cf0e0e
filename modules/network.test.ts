import { describe, expect, test } from "bun:test";
import { policyOf, synthesize } from "../test-support/modules/synth.ts";
import { type INetwork, Network } from "./network.ts";

const base = {
  namePrefix: "dev",
  kmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/k",
  availabilityZones: ["us-east-1a", "us-east-1b"],
};

describe("Network (created VPC)", () => {
  const tf = synthesize((stack) => new Network(stack, "net", base));

  test("private isolated subnets in two AZs that map no public IP", () => {
    const subnets = tf.resources("aws_subnet").map(([, s]) => s);
    expect(subnets.map((s) => s.availability_zone)).toEqual(["us-east-1a", "us-east-1b"]);
    expect(subnets.map((s) => s.cidr_block)).toEqual(["10.40.0.0/20", "10.40.16.0/20"]);
    for (const s of subnets) expect(s.map_public_ip_on_launch).toBe(false);
  });

  test("no internet gateway, NAT, Elastic IP or default route by default", () => {
    for (const type of ["aws_internet_gateway", "aws_nat_gateway", "aws_eip", "aws_route"])
      expect(tf.count(type)).toBe(0);
    expect(tf.one("aws_route_table").route).toBeUndefined();
  });

  test("DNS support and hostnames on (private DNS of the endpoints needs them)", () => {
    const vpc = tf.one("aws_vpc");
    expect(vpc.enable_dns_support).toBe(true);
    expect(vpc.enable_dns_hostnames).toBe(true);
  });

  test("the default security group is taken over with no rules", () => {
    const sg = tf.one("aws_default_security_group");
    expect(sg.ingress).toEqual([]);
    expect(sg.egress).toEqual([]);
  });

  test("NACL on the private subnets denies inbound 22 and 3389 before any allow", () => {
    const nacl = tf.one("aws_network_acl");
    expect((nacl.subnet_ids as string[]).length).toBe(2);
    const ingress = nacl.ingress as Array<Record<string, unknown>>;
    const firstAllow = Math.min(
      ...ingress.filter((r) => r.action === "allow").map((r) => r.rule_no as number),
    );
    for (const port of [22, 3389]) {
      const deny = ingress.find((r) => r.action === "deny" && r.from_port === port && r.to_port === port);
      expect(deny?.cidr_block).toBe("0.0.0.0/0");
      expect(deny?.rule_no as number).toBeLessThan(firstAllow);
    }
  });

  test("flow logs go to a KMS-encrypted log group with retention, through a role scoped to that group", () => {
    const flow = tf.one("aws_flow_log");
    expect(flow.traffic_type).toBe("ALL");
    const group = tf.one("aws_cloudwatch_log_group");
    expect(group.kms_key_id).toBe(base.kmsKeyArn);
    expect(group.retention_in_days).toBe(365);
    const policy = policyOf(tf.one("aws_iam_role_policy"));
    for (const s of policy.Statement) expect(JSON.stringify(s.Resource)).not.toContain('"*"');
  });

  test("internet egress is an explicit opt-in", () => {
    const open = synthesize((stack) => new Network(stack, "net", { ...base, allowInternetEgress: true }));
    expect(open.count("aws_internet_gateway")).toBe(1);
    expect(open.count("aws_nat_gateway")).toBe(1);
    expect(open.count("aws_eip")).toBe(1);
    expect(open.named("aws_subnet", "public").map_public_ip_on_launch).toBe(false);
  });

  test("invalid props name the construct, the field and the fix", () => {
    expect(() =>
      synthesize((s) => new Network(s, "n", { ...base, availabilityZones: ["us-east-1a"] })),
    ).toThrow(
      "Network: availabilityZones lists 1 distinct zone(s); list at least two different availability zones",
    );
    expect(() => synthesize((s) => new Network(s, "n", { ...base, cidr: "10.0.0.0/8" }))).toThrow(
      /Network: cidr is \/8/,
    );
    expect(() => synthesize((s) => new Network(s, "n", { ...base, cidr: "10.0.0.5/16" }))).toThrow(
      /Network: cidr .*host bits/,
    );
    expect(() => synthesize((s) => new Network(s, "n", { ...base, kmsKeyArn: undefined }))).toThrow(
      /Network: kmsKeyArn is missing/,
    );
  });
});

describe("Network (existing VPC)", () => {
  const existing = {
    vpcId: "vpc-0123abcd",
    subnetIds: ["subnet-01", "subnet-02"],
    routeTableIds: ["rtb-01"],
  };

  test("passes the ids through and creates nothing", () => {
    let net: INetwork | undefined;
    const tf = synthesize((stack) => {
      net = Network.fromExisting(stack, "net", existing);
    });
    expect(tf.json.resource).toBeUndefined();
    expect(net?.vpcId).toBe("vpc-0123abcd");
    expect(net?.privateSubnetIds).toEqual(["subnet-01", "subnet-02"]);
  });

  test("needs two subnets and a route table", () => {
    expect(() =>
      synthesize((s) => Network.fromExisting(s, "n", { ...existing, subnetIds: ["subnet-01"] })),
    ).toThrow(/Network: existingVpc.subnetIds has 1 subnet/);
    expect(() => synthesize((s) => Network.fromExisting(s, "n", { ...existing, routeTableIds: [] }))).toThrow(
      /Network: existingVpc.routeTableIds is empty/,
    );
  });
});
