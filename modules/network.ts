import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { NetworkAcl } from "@cdktf/provider-aws/lib/network-acl";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Construct, type IConstruct } from "constructs";
import { cidrSubnet, formatCidr, parseCidr } from "./cidr.ts";
import { policyDocument, serviceTrustPolicy } from "./iam-document.ts";
import { checkIntRange, type IntRule, InvalidPropsError } from "./props-error.ts";

/** The network the jump host, the endpoints and the database live in, created or brought in. */
export interface INetwork extends IConstruct {
  readonly vpcId: string;
  readonly privateSubnetIds: readonly string[];
  readonly privateRouteTableIds: readonly string[];
  /** The VPC range when the stack created it; undefined for an existing VPC. */
  readonly vpcCidr?: string;
}

/** A VPC the stack does not own. Flow logs, NACLs and the default group stay the owner's responsibility. */
export interface ExistingVpcProps {
  readonly vpcId: string;
  /** Private subnets (at least two, in different AZs) for the endpoints, jump host and database. */
  readonly subnetIds: readonly string[];
  /** Route tables of those subnets; the S3 gateway endpoint adds its route to them. */
  readonly routeTableIds: readonly string[];
}

export interface NetworkProps {
  /** Prefix for Name tags and IAM names, e.g. the stack name. */
  readonly namePrefix: string;
  /** Key that encrypts the flow-log group. Required unless `existingVpc` is set. */
  readonly kmsKeyArn?: string;
  /** VPC range, /16 to /24. @default "10.40.0.0/16" */
  readonly cidr?: string;
  /** Availability zones for the private isolated subnets, at least two. Required unless `existingVpc` is set. */
  readonly availabilityZones?: readonly string[];
  /**
   * Opt-in: add a public subnet with an internet gateway, an Elastic IP and a NAT gateway, and a default
   * route for the private subnets. Breaks the "isolated" property; only for jump hosts that must reach
   * something outside AWS. @default false
   */
  readonly allowInternetEgress?: boolean;
  /** Flow-log retention in days. @default 365 */
  readonly flowLogRetentionDays?: number;
}

const NAME = "Network";

/** Defaults and limits of NetworkProps; stacks/config.ts applies the same ones. */
export const NETWORK_RULES = {
  defaultCidr: "10.40.0.0/16",
  /** /16 to /24: AWS VPC limits, and room for /28+ subnets. */
  cidrPrefix: { min: 16, max: 24 },
  /** 4 extra bits give 16 blocks: up to 15 private subnets plus the last block for the opt-in public subnet. */
  maxAvailabilityZones: 15,
  flowLogRetentionDays: { min: 1, max: 3653, default: 365 },
} as const satisfies Record<string, IntRule | string | number>;

/**
 * Private isolated network: subnets in at least two AZs with no public IP mapping, a route table with
 * only the local route, the default security group stripped of all rules, NACLs that deny inbound SSH
 * and RDP, and flow logs to a KMS-encrypted log group. Or an existing VPC passed through.
 */
export class Network extends Construct implements INetwork {
  readonly vpcId: string;
  readonly privateSubnetIds: string[];
  readonly privateRouteTableIds: string[];
  readonly vpcCidr: string;

  /** Uses a VPC the stack does not own (its private subnets and their route tables). */
  static fromExisting(scope: Construct, id: string, existing: ExistingVpcProps): INetwork {
    if (existing.subnetIds.length < 2) {
      throw new InvalidPropsError(
        NAME,
        "existingVpc.subnetIds",
        `has ${existing.subnetIds.length} subnet(s)`,
        "give at least two private subnets in different availability zones",
      );
    }
    if (existing.routeTableIds.length < 1) {
      throw new InvalidPropsError(
        NAME,
        "existingVpc.routeTableIds",
        "is empty",
        "give the route tables of the private subnets (the S3 gateway endpoint needs them)",
      );
    }
    return new ExistingNetwork(scope, id, existing);
  }

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const cidrText = props.cidr ?? NETWORK_RULES.defaultCidr;
    const cidr = parseCidr(cidrText);
    if (typeof cidr === "string")
      throw new InvalidPropsError(NAME, "cidr", cidr, "use a network address such as 10.40.0.0/16");
    if (cidr.prefix < NETWORK_RULES.cidrPrefix.min || cidr.prefix > NETWORK_RULES.cidrPrefix.max) {
      throw new InvalidPropsError(
        NAME,
        "cidr",
        `is /${cidr.prefix}`,
        "use a prefix from /16 to /24 (AWS VPC limits, room for /28+ subnets)",
      );
    }
    const zones = props.availabilityZones ?? [];
    if (zones.length < 2 || new Set(zones).size !== zones.length) {
      throw new InvalidPropsError(
        NAME,
        "availabilityZones",
        `lists ${zones.length} distinct zone(s)`,
        "list at least two different availability zones",
      );
    }
    if (zones.length > NETWORK_RULES.maxAvailabilityZones)
      throw new InvalidPropsError(
        NAME,
        "availabilityZones",
        `lists ${zones.length} zones`,
        `list at most ${NETWORK_RULES.maxAvailabilityZones}`,
      );
    if (!props.kmsKeyArn)
      throw new InvalidPropsError(
        NAME,
        "kmsKeyArn",
        "is missing",
        "pass the stack key so the flow-log group is encrypted",
      );
    checkIntRange(
      NAME,
      "flowLogRetentionDays",
      props.flowLogRetentionDays,
      NETWORK_RULES.flowLogRetentionDays.min,
      NETWORK_RULES.flowLogRetentionDays.max,
    );
    const prefix = props.namePrefix;

    const vpc = new Vpc(this, "vpc", {
      cidrBlock: cidrText,
      // Private DNS of interface endpoints needs both.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: { Name: prefix },
    });
    this.vpcId = vpc.id;
    this.vpcCidr = cidrText;

    // Taking the default group under management with no rule blocks removes AWS's allow-all rules.
    new DefaultSecurityGroup(this, "default-sg", {
      vpcId: vpc.id,
      ingress: [],
      egress: [],
      tags: { Name: `${prefix}-default-no-rules` },
    });

    const routeTable = new RouteTable(this, "private-rt", {
      vpcId: vpc.id,
      tags: { Name: `${prefix}-private` },
    });
    this.privateRouteTableIds = [routeTable.id];
    const subnets = zones.map((zone, index) => {
      const subnet = new Subnet(this, `private-${index}`, {
        vpcId: vpc.id,
        availabilityZone: zone,
        cidrBlock: formatCidr(cidrSubnet(cidr, 4, index)),
        mapPublicIpOnLaunch: false,
        tags: { Name: `${prefix}-private-${zone}` },
      });
      new RouteTableAssociation(this, `private-${index}-rt`, {
        subnetId: subnet.id,
        routeTableId: routeTable.id,
      });
      return subnet;
    });
    this.privateSubnetIds = subnets.map((s) => s.id);

    new NetworkAcl(this, "private-nacl", {
      vpcId: vpc.id,
      subnetIds: this.privateSubnetIds,
      ingress: [
        // Evaluated in rule-number order: the denies win over the allows below, even inside the VPC.
        { ruleNo: 10, action: "deny", protocol: "tcp", cidrBlock: "0.0.0.0/0", fromPort: 22, toPort: 22 },
        { ruleNo: 20, action: "deny", protocol: "tcp", cidrBlock: "0.0.0.0/0", fromPort: 3389, toPort: 3389 },
        { ruleNo: 100, action: "allow", protocol: "-1", cidrBlock: cidrText, fromPort: 0, toPort: 0 },
        // NACLs are stateless: replies from the S3 gateway endpoint come from S3's public addresses.
        {
          ruleNo: 110,
          action: "allow",
          protocol: "tcp",
          cidrBlock: "0.0.0.0/0",
          fromPort: 1024,
          toPort: 65535,
        },
      ],
      // Security groups do the real egress filtering; the NACL only guards inbound.
      egress: [
        { ruleNo: 100, action: "allow", protocol: "-1", cidrBlock: "0.0.0.0/0", fromPort: 0, toPort: 0 },
      ],
      tags: { Name: `${prefix}-private` },
    });

    const flowLogGroup = new CloudwatchLogGroup(this, "flow-log-group", {
      name: `/dbtunnel/${prefix}/vpc-flow-logs`,
      kmsKeyId: props.kmsKeyArn,
      retentionInDays: props.flowLogRetentionDays ?? NETWORK_RULES.flowLogRetentionDays.default,
    });
    const flowLogRole = new IamRole(this, "flow-log-role", {
      name: `${prefix}-vpc-flow-logs`,
      assumeRolePolicy: serviceTrustPolicy("vpc-flow-logs.amazonaws.com"),
    });
    new IamRolePolicy(this, "flow-log-policy", {
      name: "write-flow-logs",
      role: flowLogRole.id,
      policy: policyDocument([
        {
          Sid: "WriteOwnFlowLogGroup",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          Resource: [flowLogGroup.arn, `${flowLogGroup.arn}:*`],
        },
      ]),
    });
    new FlowLog(this, "flow-log", {
      vpcId: vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: flowLogGroup.arn,
      iamRoleArn: flowLogRole.arn,
      tags: { Name: `${prefix}-flow-log` },
    });

    if (props.allowInternetEgress)
      this.addInternetEgress(prefix, vpc, formatCidr(cidrSubnet(cidr, 4, 15)), zones[0] ?? "", routeTable);
  }

  /** Explicit opt-in only: public subnet + IGW + EIP + NAT and a default route for the private subnets. */
  private addInternetEgress(
    prefix: string,
    vpc: Vpc,
    publicCidr: string,
    zone: string,
    privateRt: RouteTable,
  ): void {
    const igw = new InternetGateway(this, "igw", { vpcId: vpc.id, tags: { Name: prefix } });
    const publicSubnet = new Subnet(this, "public-0", {
      vpcId: vpc.id,
      availabilityZone: zone,
      cidrBlock: publicCidr,
      mapPublicIpOnLaunch: false,
      tags: { Name: `${prefix}-public-nat-only` },
    });
    const publicRt = new RouteTable(this, "public-rt", { vpcId: vpc.id, tags: { Name: `${prefix}-public` } });
    new Route(this, "public-default", {
      routeTableId: publicRt.id,
      destinationCidrBlock: "0.0.0.0/0",
      gatewayId: igw.id,
    });
    new RouteTableAssociation(this, "public-0-rt", { subnetId: publicSubnet.id, routeTableId: publicRt.id });
    const eip = new Eip(this, "nat-eip", { domain: "vpc", tags: { Name: `${prefix}-nat` } });
    const nat = new NatGateway(this, "nat", {
      allocationId: eip.id,
      subnetId: publicSubnet.id,
      tags: { Name: prefix },
    });
    new Route(this, "private-default", {
      routeTableId: privateRt.id,
      destinationCidrBlock: "0.0.0.0/0",
      natGatewayId: nat.id,
    });
  }
}

/** A VPC passed through by id: nothing is created. */
class ExistingNetwork extends Construct implements INetwork {
  readonly vpcId: string;
  readonly privateSubnetIds: readonly string[];
  readonly privateRouteTableIds: readonly string[];

  constructor(scope: Construct, id: string, existing: ExistingVpcProps) {
    super(scope, id);
    this.vpcId = existing.vpcId;
    this.privateSubnetIds = [...existing.subnetIds];
    this.privateRouteTableIds = [...existing.routeTableIds];
  }
}
