import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { Construct } from "constructs";
import { arn } from "./aws-context.ts";
import type { IPrincipal } from "./grant.ts";
import {
  type PolicyStatement,
  policyDocument,
  serviceTrustPolicy,
  sessionChannelsStatement,
} from "./iam-document.ts";
import {
  grantStartInstance,
  grantStartSessionOn,
  type IEc2JumpHost,
  type StartSessionGrantOptions,
} from "./jumphost-interface.ts";
import { idleStopUserData } from "./jumphost-user-data.ts";
import { checkIntRange, checkPattern, type IntRule, type PatternRule } from "./props-error.ts";

/** Public SSM parameter AWS keeps pointing at the latest Amazon Linux 2023 AMI (owner pinned by AWS). */
export const AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

/** Defaults and limits of the EC2 jump host props; stacks/config.ts applies the same ones. */
export const EC2_JUMP_HOST_RULES = {
  instanceType: { pattern: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/, hint: 'use an instance type such as "t3.micro"' },
  defaultInstanceType: "t3.micro",
  idleStopMinutes: { min: 1, max: 1440, default: 30 },
  rootVolumeGiB: { min: 8, max: 16384, default: 8 },
} as const satisfies Record<string, PatternRule | IntRule | string>;

/** Where Session Manager writes session logs, so the instance role can be scoped to exactly these. */
export interface SessionLoggingTarget {
  readonly bucketArn: string;
  readonly logGroupArn: string;
}

export interface Ec2JumpHostProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly subnetId: string;
  readonly securityGroupId: string;
  readonly kmsKeyArn: string;
  /** x86_64 instance type. @default "t3.micro" */
  readonly instanceType?: string;
  /** Root volume size in GiB (the AL2023 AMI needs at least 8). @default 8 */
  readonly rootVolumeGiB?: number;
  /** Minutes without a port-forwarding session before the instance stops itself (1-1440). @default 30 */
  readonly idleStopMinutes?: number;
  /** Session log destinations the role may write to. @default none (no logging permissions) */
  readonly sessionLogging?: SessionLoggingTarget;
  /** Tags for the root volume, which provider default_tags do not reach. @default none */
  readonly volumeTags?: Readonly<Record<string, string>>;
  /** Extra tags for the instance (e.g. `dbtunnel:role`). @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The EC2 jump host: Amazon Linux 2023 from the public SSM parameter, no key pair, no public IP, IMDSv2
 * with hop limit 1, KMS-encrypted root volume, and an inline least-privilege Session Manager policy
 * instead of AmazonSSMManagedInstanceCore (which also grants Run Command, State Manager, inventory and
 * parameter reads that a forwarding host never needs).
 */
export class Ec2JumpHost extends Construct implements IEc2JumpHost {
  readonly kind = "ec2" as const;
  readonly instance: Instance;
  readonly role: IamRole;
  readonly instanceId: string;
  readonly instanceArn: string;
  readonly securityGroupId: string;
  readonly sessionTargetArns: readonly string[];
  private readonly region: string;

  constructor(scope: Construct, id: string, props: Ec2JumpHostProps) {
    super(scope, id);
    const R = EC2_JUMP_HOST_RULES;
    checkIntRange(
      "Ec2JumpHost",
      "idleStopMinutes",
      props.idleStopMinutes,
      R.idleStopMinutes.min,
      R.idleStopMinutes.max,
    );
    checkIntRange(
      "Ec2JumpHost",
      "rootVolumeGiB",
      props.rootVolumeGiB,
      R.rootVolumeGiB.min,
      R.rootVolumeGiB.max,
    );
    const instanceType = props.instanceType ?? R.defaultInstanceType;
    checkPattern("Ec2JumpHost", "instanceType", instanceType, R.instanceType);

    const ami = new DataAwsSsmParameter(this, "ami", { name: AL2023_AMI_PARAMETER });
    this.role = new IamRole(this, "role", {
      name: `${props.namePrefix}-jumphost`,
      assumeRolePolicy: serviceTrustPolicy("ec2.amazonaws.com"),
    });
    new IamRolePolicy(this, "session-manager", {
      name: "session-manager-least-privilege",
      role: this.role.id,
      policy: policyDocument(
        instanceStatements(
          props,
          arn(this, {
            service: "ec2",
            region: props.region,
            account: props.accountId,
            resource: "instance/*",
          }),
        ),
      ),
    });
    const profile = new IamInstanceProfile(this, "profile", {
      name: `${props.namePrefix}-jumphost`,
      role: this.role.name,
    });

    this.instance = new Instance(this, "instance", {
      // insecure_value: the AMI id is public and not sensitive; `value` would hide it in every plan.
      ami: ami.insecureValue,
      instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: [props.securityGroupId],
      iamInstanceProfile: profile.name,
      // associate_public_ip_address stays unset: the subnets map no public IP, and moto reads an explicit
      // `false` back as `true`, which would replace the instance on every plan (design.md, sandbox facts).
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      rootBlockDevice: {
        encrypted: true,
        kmsKeyId: props.kmsKeyArn,
        volumeType: "gp3",
        // Explicit size: real AMIs would supply it, but moto's RunInstances rejects a mapping without one.
        volumeSize: props.rootVolumeGiB ?? R.rootVolumeGiB.default,
        deleteOnTermination: true,
        tags: { Name: `${props.namePrefix}-jumphost-root`, ...props.volumeTags },
      },
      instanceInitiatedShutdownBehavior: "stop",
      userData: idleStopUserData(props.idleStopMinutes ?? R.idleStopMinutes.default),
      userDataReplaceOnChange: true,
      tags: { Name: `${props.namePrefix}-jumphost`, ...props.tags },
    });
    this.instanceId = this.instance.id;
    this.instanceArn = this.instance.arn;
    this.securityGroupId = props.securityGroupId;
    this.sessionTargetArns = [this.instanceArn];
    this.region = props.region;
  }

  grantStartSession(principal: IPrincipal, options: StartSessionGrantOptions): void {
    grantStartSessionOn(this, this.region, principal, options);
  }

  grantFindAndStart(principal: IPrincipal): void {
    grantStartInstance(principal, this.instanceArn);
  }
}

/** `accountInstances`: every instance of this account and region (the agent registers before it knows its id). */
function instanceStatements(props: Ec2JumpHostProps, accountInstances: string): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    sessionChannelsStatement("SessionManagerChannels"),
    {
      Sid: "AgentRegistersThisAccountsInstances",
      Effect: "Allow",
      Action: "ssm:UpdateInstanceInformation",
      Resource: accountInstances,
    },
    {
      Sid: "DecryptSessionData",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: props.kmsKeyArn,
    },
  ];
  if (props.sessionLogging) {
    const { bucketArn, logGroupArn } = props.sessionLogging;
    statements.push(
      { Sid: "WriteSessionLogsToS3", Effect: "Allow", Action: "s3:PutObject", Resource: `${bucketArn}/*` },
      {
        Sid: "CheckSessionLogBucketEncryption",
        Effect: "Allow",
        Action: "s3:GetEncryptionConfiguration",
        Resource: bucketArn,
      },
      {
        Sid: "WriteSessionLogsToCloudWatch",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: `${logGroupArn}:*`,
      },
      {
        // The agent lists log groups to check the target exists; DescribeLogGroups cannot be scoped.
        Sid: "AgentChecksLogGroupExists",
        Effect: "Allow",
        Action: "logs:DescribeLogGroups",
        Resource: "*",
      },
    );
  }
  return statements;
}
