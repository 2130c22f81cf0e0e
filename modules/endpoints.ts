import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { interfaceEndpointPolicy, s3EndpointPolicy } from "./endpoint-policies.ts";
import { InvalidPropsError } from "./props-error.ts";

/** What Session Manager needs from inside an isolated VPC (user guide: "Use PrivateLink ... VPC endpoints"). */
export const SESSION_MANAGER_SERVICES = ["ssm", "ssmmessages", "ec2messages", "kms", "logs"] as const;

export interface EndpointsProps {
  readonly namePrefix: string;
  readonly region: string;
  /** Endpoint policies admit principals of this account only. */
  readonly accountId: string;
  readonly vpcId: string;
  /** Private subnets that receive one endpoint interface each. */
  readonly subnetIds: readonly string[];
  /** Route tables that get the S3 gateway endpoint route. */
  readonly routeTableIds: readonly string[];
  /**
   * Extra interface endpoint services, e.g. `["ecr.api", "ecr.dkr"]` for a Fargate jump host pulling
   * from private ECR. @default none
   */
  readonly extraServices?: readonly string[];
  /**
   * Buckets of the stack reachable through the S3 gateway endpoint besides the AWS-owned ones the SSM
   * agent (and, with ecr.dkr, ECR) needs: the session-log bucket. @default none
   */
  readonly s3BucketArns?: readonly string[];
}

/**
 * Interface endpoints for ssm, ssmmessages, ec2messages, kms and logs (private DNS, private subnets) and
 * the S3 gateway endpoint, each with an endpoint policy (endpoint-policies.ts): interface endpoints admit
 * principals of this account only; the S3 gateway endpoint reaches the stack's buckets and the AWS-owned
 * buckets the SSM agent needs, nothing else. Their security group starts with no rules at all: callers admit clients with
 * `allowHttpsFrom(securityGroupId)`, which adds one 443 ingress rule that references the client group.
 */
export class Endpoints extends Construct {
  readonly securityGroupId: string;
  /** Prefix list of the S3 gateway endpoint, for 443 egress rules towards S3. */
  readonly s3PrefixListId: string;
  readonly interfaceEndpoints: Record<string, VpcEndpoint> = {};

  constructor(scope: Construct, id: string, props: EndpointsProps) {
    super(scope, id);
    if (props.subnetIds.length < 1) {
      throw new InvalidPropsError(
        "Endpoints",
        "subnetIds",
        "is empty",
        "pass the private subnets of the VPC",
      );
    }
    // Terraform removes AWS's default allow-all egress from groups it creates; no inline rules here so
    // that rule resources (aws_vpc_security_group_*_rule) own every rule without fighting inline blocks.
    const sg = new SecurityGroup(this, "sg", {
      name: `${props.namePrefix}-vpc-endpoints`,
      description: "dbtunnel VPC interface endpoints: 443 from the jump host only",
      vpcId: props.vpcId,
      tags: { Name: `${props.namePrefix}-vpc-endpoints` },
    });
    this.securityGroupId = sg.id;

    const services = [...SESSION_MANAGER_SERVICES, ...(props.extraServices ?? [])];
    for (const service of new Set(services)) {
      this.interfaceEndpoints[service] = new VpcEndpoint(this, `endpoint-${service.replace(/\./g, "-")}`, {
        vpcId: props.vpcId,
        serviceName: `com.amazonaws.${props.region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: [...props.subnetIds],
        securityGroupIds: [sg.id],
        policy: interfaceEndpointPolicy(props.accountId),
        tags: { Name: `${props.namePrefix}-${service}` },
      });
    }
    const s3 = new VpcEndpoint(this, "endpoint-s3", {
      vpcId: props.vpcId,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: [...props.routeTableIds],
      policy: s3EndpointPolicy(this, {
        region: props.region,
        accountId: props.accountId,
        writableBucketArns: props.s3BucketArns ?? [],
        ecrLayers: services.includes("ecr.dkr"),
      }),
      tags: { Name: `${props.namePrefix}-s3` },
    });
    this.s3PrefixListId = s3.prefixListId;
  }

  /** Admits HTTPS from one security group (the jump host's). */
  allowHttpsFrom(id: string, sourceSecurityGroupId: string): VpcSecurityGroupIngressRule {
    // No `description`: moto drops it for group-referencing rules and every plan would show a diff.
    return new VpcSecurityGroupIngressRule(this, id, {
      securityGroupId: this.securityGroupId,
      referencedSecurityGroupId: sourceSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
    });
  }
}
