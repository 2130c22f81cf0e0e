import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Construct } from "constructs";
import { ROLE_TAG, ROLES } from "../contract/tags.ts";
import { Ec2JumpHost, type SessionLoggingTarget } from "./jumphost-ec2.ts";
import { EcsJumpHost } from "./jumphost-ecs.ts";
import { checkIntRange, InvalidPropsError } from "./props-error.ts";

export type JumpHostKind = "ec2" | "ecs";

export interface JumpHostProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly vpcId: string;
  /** Private subnets; the EC2 host goes into the first one, Fargate tasks may use all. */
  readonly subnetIds: readonly string[];
  readonly kmsKeyArn: string;
  /** Group of the VPC interface endpoints: the only 443 destination besides the S3 prefix list. */
  readonly endpointSecurityGroupId: string;
  /** Prefix list of the S3 gateway endpoint. */
  readonly s3PrefixListId: string;
  /** The database group and port: the only other destination the host can reach. */
  readonly database: { readonly securityGroupId: string; readonly port: number };
  /** EC2 instance or ECS Fargate task. @default "ec2" */
  readonly kind?: JumpHostKind;
  /** EC2 only. @default "t3.micro" */
  readonly instanceType?: string;
  /** EC2 only: minutes without a session before the host stops itself. @default 30 */
  readonly idleStopMinutes?: number;
  /** ECS only, required there: image URI in private ECR. */
  readonly containerImage?: string;
  /** Session log destinations the host role may write to. @default none */
  readonly sessionLogging?: SessionLoggingTarget;
  /** EC2 only: tags for the root volume, which provider default_tags do not reach. @default none */
  readonly volumeTags?: Readonly<Record<string, string>>;
}

const ROLE_TAGS = { [ROLE_TAG]: ROLES.jumpHost };

/**
 * The jump host and its security group. The group has ZERO ingress rules (Session Manager connects
 * outbound through the endpoints) and exactly three egress rules: 443 to the endpoint group, 443 to the
 * S3 prefix list, and the database port to the database group. Since no IAM condition can restrict the
 * forwarding document's host/port (aws-facts.md), this egress is what limits where a session may go.
 * Rules are separate aws_vpc_security_group_egress_rule resources (never inline) so that the endpoint and
 * database groups can reference this group without a dependency cycle.
 */
export class JumpHost extends Construct {
  readonly kind: JumpHostKind;
  readonly securityGroupId: string;
  /** EC2: the instance id; ECS: "". */
  readonly instanceId: string;
  /** EC2: the instance ARN; ECS: "". */
  readonly instanceArn: string;
  /** ECS: cluster / service names; EC2: "". */
  readonly ecsClusterName: string;
  readonly ecsServiceName: string;
  /** ARNs that `ssm:StartSession` must name for this host (instance, or the cluster's tasks). */
  readonly sessionTargetArns: string[];
  readonly ec2?: Ec2JumpHost;
  readonly ecs?: EcsJumpHost;

  constructor(scope: Construct, id: string, props: JumpHostProps) {
    super(scope, id);
    this.kind = props.kind ?? "ec2";
    checkIntRange("JumpHost", "database.port", props.database.port, 1, 65535);
    if (props.subnetIds.length < 1)
      throw new InvalidPropsError("JumpHost", "subnetIds", "is empty", "pass the private subnets");

    const sg = new SecurityGroup(this, "sg", {
      name: `${props.namePrefix}-jumphost`,
      description: "dbtunnel jump host: no ingress; egress 443 to endpoints/S3 and the DB port to the DB",
      vpcId: props.vpcId,
      tags: { Name: `${props.namePrefix}-jumphost` },
    });
    this.securityGroupId = sg.id;
    // No `description` on group-referencing rules: moto drops it and every plan would show a diff.
    new VpcSecurityGroupEgressRule(this, "egress-endpoints", {
      securityGroupId: sg.id,
      referencedSecurityGroupId: props.endpointSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
    });
    new VpcSecurityGroupEgressRule(this, "egress-s3", {
      securityGroupId: sg.id,
      prefixListId: props.s3PrefixListId,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
    });
    new VpcSecurityGroupEgressRule(this, "egress-database", {
      securityGroupId: sg.id,
      referencedSecurityGroupId: props.database.securityGroupId,
      ipProtocol: "tcp",
      fromPort: props.database.port,
      toPort: props.database.port,
    });

    const common = {
      namePrefix: props.namePrefix,
      region: props.region,
      accountId: props.accountId,
      securityGroupId: sg.id,
      kmsKeyArn: props.kmsKeyArn,
      tags: ROLE_TAGS,
    };
    if (this.kind === "ec2") {
      if (props.containerImage !== undefined) {
        throw new InvalidPropsError(
          "JumpHost",
          "containerImage",
          'is set but kind is "ec2"',
          'remove it or set kind "ecs"',
        );
      }
      this.ec2 = new Ec2JumpHost(this, "ec2", {
        ...common,
        subnetId: props.subnetIds[0] ?? "",
        instanceType: props.instanceType,
        idleStopMinutes: props.idleStopMinutes,
        sessionLogging: props.sessionLogging,
        volumeTags: props.volumeTags,
      });
      this.instanceId = this.ec2.instance.id;
      this.instanceArn = this.ec2.instance.arn;
      this.ecsClusterName = "";
      this.ecsServiceName = "";
      this.sessionTargetArns = [this.instanceArn];
    } else if (this.kind === "ecs") {
      this.ecs = new EcsJumpHost(this, "ecs", {
        ...common,
        subnetIds: props.subnetIds,
        containerImage: props.containerImage ?? "",
      });
      this.instanceId = "";
      this.instanceArn = "";
      this.ecsClusterName = this.ecs.cluster.name;
      this.ecsServiceName = this.ecs.service.name;
      this.sessionTargetArns = [
        `arn:aws:ecs:${props.region}:${props.accountId}:task/${this.ecs.cluster.name}/*`,
      ];
    } else {
      throw new InvalidPropsError("JumpHost", "kind", `is "${String(this.kind)}"`, 'use "ec2" or "ecs"');
    }
  }
}
