import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { Construct } from "constructs";
import { ROLE_TAG, ROLES } from "../contract/tags.ts";
import { arn } from "./aws-context.ts";
import type { IPrincipal } from "./grant.ts";
import { Ec2JumpHost, type SessionLoggingTarget } from "./jumphost-ec2.ts";
import { EcsJumpHost } from "./jumphost-ecs.ts";
import {
  type EcsClusterArns,
  ecsClusterArns,
  grantFindTasks,
  grantStartInstance,
  grantStartSessionOn,
  type IEc2JumpHost,
  type IEcsJumpHost,
  type IJumpHost,
  type JumpHostKind,
  type StartSessionGrantOptions,
} from "./jumphost-interface.ts";
import { checkIntRange, InvalidPropsError } from "./props-error.ts";

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
export class JumpHost extends Construct implements IJumpHost {
  readonly securityGroupId: string;
  /** The host itself: an EC2 instance or an ECS service, each with only its own fields. */
  readonly host: Ec2JumpHost | EcsJumpHost;

  /** An EC2 instance the stack does not manage, as a jump host others can be granted access to. */
  static fromEc2Instance(scope: Construct, id: string, attrs: Ec2JumpHostAttributes): IEc2JumpHost {
    return new ImportedEc2JumpHost(scope, id, attrs);
  }

  /** An ECS service the stack does not manage, as a jump host others can be granted access to. */
  static fromEcsService(scope: Construct, id: string, attrs: EcsJumpHostAttributes): IEcsJumpHost {
    return new ImportedEcsJumpHost(scope, id, attrs);
  }

  get kind(): JumpHostKind {
    return this.host.kind;
  }

  get sessionTargetArns(): readonly string[] {
    return this.host.sessionTargetArns;
  }

  grantStartSession(principal: IPrincipal, options: StartSessionGrantOptions): void {
    this.host.grantStartSession(principal, options);
  }

  grantFindAndStart(principal: IPrincipal): void {
    this.host.grantFindAndStart(principal);
  }

  constructor(scope: Construct, id: string, props: JumpHostProps) {
    super(scope, id);
    const kind = props.kind ?? "ec2";
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
    if (kind === "ec2") {
      if (props.containerImage !== undefined) {
        throw new InvalidPropsError(
          "JumpHost",
          "containerImage",
          'is set but kind is "ec2"',
          'remove it or set kind "ecs"',
        );
      }
      this.host = new Ec2JumpHost(this, "ec2", {
        ...common,
        subnetId: props.subnetIds[0] ?? "",
        instanceType: props.instanceType,
        idleStopMinutes: props.idleStopMinutes,
        sessionLogging: props.sessionLogging,
        volumeTags: props.volumeTags,
      });
    } else if (kind === "ecs") {
      this.host = new EcsJumpHost(this, "ecs", {
        ...common,
        subnetIds: props.subnetIds,
        containerImage: props.containerImage ?? "",
      });
    } else {
      throw new InvalidPropsError("JumpHost", "kind", `is "${String(kind)}"`, 'use "ec2" or "ecs"');
    }
  }
}

export interface Ec2JumpHostAttributes {
  readonly instanceId: string;
  readonly region: string;
  readonly accountId: string;
  readonly securityGroupId: string;
}

export interface EcsJumpHostAttributes {
  readonly clusterName: string;
  readonly serviceName: string;
  readonly region: string;
  readonly accountId: string;
  readonly securityGroupId: string;
}

class ImportedEc2JumpHost extends Construct implements IEc2JumpHost {
  readonly kind = "ec2" as const;
  readonly instanceId: string;
  readonly instanceArn: string;
  readonly securityGroupId: string;
  readonly sessionTargetArns: readonly string[];
  private readonly region: string;

  constructor(scope: Construct, id: string, attrs: Ec2JumpHostAttributes) {
    super(scope, id);
    this.instanceId = attrs.instanceId;
    this.instanceArn = arn(this, {
      service: "ec2",
      region: attrs.region,
      account: attrs.accountId,
      resource: `instance/${attrs.instanceId}`,
    });
    this.securityGroupId = attrs.securityGroupId;
    this.sessionTargetArns = [this.instanceArn];
    this.region = attrs.region;
  }

  grantStartSession(principal: IPrincipal, options: StartSessionGrantOptions): void {
    grantStartSessionOn(this, this.region, principal, options);
  }

  grantFindAndStart(principal: IPrincipal): void {
    grantStartInstance(principal, this.instanceArn);
  }
}

class ImportedEcsJumpHost extends Construct implements IEcsJumpHost {
  readonly kind = "ecs" as const;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly serviceName: string;
  readonly securityGroupId: string;
  readonly sessionTargetArns: readonly string[];
  private readonly arns: EcsClusterArns;
  private readonly region: string;

  constructor(scope: Construct, id: string, attrs: EcsJumpHostAttributes) {
    super(scope, id);
    this.clusterName = attrs.clusterName;
    this.serviceName = attrs.serviceName;
    this.securityGroupId = attrs.securityGroupId;
    this.region = attrs.region;
    this.arns = ecsClusterArns(this, {
      name: attrs.clusterName,
      arn: arn(this, {
        service: "ecs",
        region: attrs.region,
        account: attrs.accountId,
        resource: `cluster/${attrs.clusterName}`,
      }),
      region: attrs.region,
      accountId: attrs.accountId,
    });
    this.clusterArn = this.arns.clusterArn;
    this.sessionTargetArns = [this.arns.tasks];
  }

  grantStartSession(principal: IPrincipal, options: StartSessionGrantOptions): void {
    grantStartSessionOn(this, this.region, principal, options);
  }

  grantFindAndStart(principal: IPrincipal): void {
    grantFindTasks(principal, this.arns);
  }
}
