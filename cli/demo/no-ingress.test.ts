import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
  RunInstancesCommand,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { CreateDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { type Moto, startMoto } from "../../sandbox/moto.ts";
import { collectIngressSnapshot, evaluateIngress, type IngressSnapshot } from "./no-ingress.ts";

const STACK = "e2e-test";
const tags = (role?: string) => [
  { Key: "dbtunnel:stack", Value: STACK },
  ...(role ? [{ Key: "dbtunnel:role", Value: role }] : []),
];

function group(id: string, ingress: SecurityGroup["IpPermissions"] = [], tagged = true): SecurityGroup {
  return { GroupId: id, GroupName: id, VpcId: "vpc-1", IpPermissions: ingress, Tags: tagged ? tags() : [] };
}

const clean: IngressSnapshot = {
  stackName: STACK,
  vpcIds: ["vpc-1"],
  securityGroups: [
    group("sg-jump"),
    group("sg-db", [
      { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: "sg-jump" }] },
    ]),
    group("sg-endpoints", [
      { IpProtocol: "tcp", FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: "sg-jump" }] },
    ]),
    // The VPC's default group, untagged: its self-reference admits no address range.
    group("sg-default", [{ IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: "sg-default" }] }], false),
  ],
  jumpHost: {
    kind: "ec2",
    id: "i-1",
    securityGroupIds: ["sg-jump"],
    publicIps: [],
    tags: { "dbtunnel:stack": STACK, "dbtunnel:role": "jump-host" },
  },
  databases: [{ id: "db", publiclyAccessible: false, securityGroupIds: ["sg-db"] }],
  internetGatewayIds: [],
};

const failing = (s: IngressSnapshot) => evaluateIngress(s).filter((f) => !f.ok);

describe("evaluateIngress", () => {
  test("the designed stack passes every check", () => {
    expect(failing(clean)).toEqual([]);
  });

  test("any ingress rule on the jump host group fails, even one from a security group", () => {
    const s = {
      ...clean,
      securityGroups: clean.securityGroups.map((g) =>
        g.GroupId === "sg-jump"
          ? group("sg-jump", [
              { IpProtocol: "tcp", FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: "sg-db" }] },
            ])
          : g,
      ),
    };
    expect(failing(s).map((f) => f.check)).toEqual(["jump-host-sg-no-ingress"]);
  });

  test.each([
    ["0.0.0.0/0", { IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    ["::/0", { Ipv6Ranges: [{ CidrIpv6: "::/0" }] }],
    ["a VPC-internal CIDR", { IpRanges: [{ CidrIp: "10.40.0.0/16" }] }],
    ["a prefix list", { PrefixListIds: [{ PrefixListId: "pl-123" }] }],
  ])("a database group admitting %s fails", (_label, source) => {
    const s = {
      ...clean,
      securityGroups: clean.securityGroups.map((g) =>
        g.GroupId === "sg-db"
          ? group("sg-db", [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, ...source }])
          : g,
      ),
    };
    expect(failing(s).map((f) => f.check)).toContain("no-cidr-ingress");
  });

  test("an address range on an untagged group in the stack VPC fails too", () => {
    const s = {
      ...clean,
      securityGroups: [
        ...clean.securityGroups,
        group("sg-other", [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }], false),
      ],
    };
    expect(failing(s).map((f) => f.message)).toEqual([
      "sg-other (sg-other) admits address ranges: all traffic from 0.0.0.0/0",
    ]);
  });

  test("an endpoint group admitting a group other than the jump host's fails", () => {
    const s = {
      ...clean,
      securityGroups: clean.securityGroups.map((g) =>
        g.GroupId === "sg-endpoints"
          ? group("sg-endpoints", [
              { IpProtocol: "tcp", FromPort: 443, ToPort: 443, UserIdGroupPairs: [{ GroupId: "sg-db" }] },
            ])
          : g,
      ),
    };
    expect(failing(s).map((f) => f.check)).toEqual(["ingress-only-from-jump-host"]);
  });

  test("public IP, public database, internet gateway and missing tags each fail", () => {
    const jumpHost = clean.jumpHost && {
      ...clean.jumpHost,
      publicIps: ["54.1.2.3"],
      tags: { "dbtunnel:stack": STACK },
    };
    const s: IngressSnapshot = {
      ...clean,
      jumpHost,
      databases: [{ id: "db", publiclyAccessible: true, securityGroupIds: ["sg-db", "sg-elsewhere"] }],
      internetGatewayIds: ["igw-1"],
    };
    expect(
      failing(s)
        .map((f) => f.check)
        .sort(),
    ).toEqual([
      "database-not-public",
      "database-sgs-checked",
      "jump-host-no-public-ip",
      "jump-host-tags",
      "no-internet-gateway",
    ]);
  });

  test("a jump host without security group is reported once, not as foreign sources on every group", () => {
    const s: IngressSnapshot = clean.jumpHost
      ? { ...clean, jumpHost: { ...clean.jumpHost, securityGroupIds: [] } }
      : clean;
    expect(failing(s).map((f) => f.check)).toEqual(["jump-host-sg-found", "ingress-only-from-jump-host"]);
  });

  test("finding nothing is a failure, not a pass", () => {
    const s: IngressSnapshot = { ...clean, securityGroups: [], jumpHost: undefined, databases: [] };
    expect(failing(s).map((f) => f.check)).toEqual(["stack-sgs-found", "jump-host-found", "database-found"]);
  });
});

describe("collectIngressSnapshot against moto", () => {
  let moto: Moto;
  let dir: string;
  let ec2: EC2Client;
  let rds: RDSClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "dbtunnel-e2e-moto-"));
    moto = await startMoto({ dir });
    const config = {
      region: "us-east-1",
      endpoint: moto.url,
      credentials: { accessKeyId: "AKIAE2ETEST", secretAccessKey: "secret" },
    };
    ec2 = new EC2Client(config);
    rds = new RDSClient(config);
  }, 30_000);

  afterAll(async () => {
    ec2?.destroy();
    rds?.destroy();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("reads the live groups, instance, database and gateways, and catches what was opened", async () => {
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.40.0.0/16" }))).Vpc?.VpcId ?? "";
    const subnetId =
      (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: "10.40.1.0/24" }))).Subnet
        ?.SubnetId ?? "";
    const sg = async (name: string) =>
      (
        await ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: name,
            Description: name,
            VpcId: vpcId,
            TagSpecifications: [{ ResourceType: "security-group", Tags: tags() }],
          }),
        )
      ).GroupId ?? "";
    const jump = await sg("jump");
    const db = await sg("db");
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: db,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: jump }] },
        ],
      }),
    );
    const instanceId =
      (
        await ec2.send(
          new RunInstancesCommand({
            ImageId: "ami-12c6146b",
            MinCount: 1,
            MaxCount: 1,
            SubnetId: subnetId,
            SecurityGroupIds: [jump],
            TagSpecifications: [{ ResourceType: "instance", Tags: tags("jump-host") }],
          }),
        )
      ).Instances?.[0]?.InstanceId ?? "";
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: "e2e-db",
        Engine: "postgres",
        DBInstanceClass: "db.t4g.micro",
        MasterUsername: "dbadmin",
        MasterUserPassword: "not-a-secret-123",
        AllocatedStorage: 20,
        VpcSecurityGroupIds: [db],
        PubliclyAccessible: false,
      }),
    );
    const collect = () =>
      collectIngressSnapshot({
        stackName: STACK,
        jumpHost: { kind: "ec2", instanceId },
        database: { engine: "postgres", identifier: "e2e-db" },
        ec2,
        rds,
      });

    const before = await collect();
    expect(before.jumpHost?.securityGroupIds).toEqual([jump]);
    expect(before.vpcIds).toEqual([vpcId]);
    expect(failing(before)).toEqual([]);

    // Open the jump host to SSH from anywhere and attach an internet gateway: both must be caught.
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: jump,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    const igw =
      (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway?.InternetGatewayId ?? "";
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    const after = failing(await collect())
      .map((f) => f.check)
      .sort();
    expect(after).toEqual(["jump-host-sg-no-ingress", "no-cidr-ingress", "no-internet-gateway"]);
  }, 30_000);
});
