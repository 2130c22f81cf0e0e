import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { arn } from "./aws-context.ts";
import type { IPrincipal } from "./grant.ts";
import { type PolicyStatement, policyDocument, sessionChannelsStatement } from "./iam-document.ts";
import {
  type EcsClusterArns,
  ecsClusterArns,
  grantFindTasks,
  grantStartSessionOn,
  type IEcsJumpHost,
  type StartSessionGrantOptions,
} from "./jumphost-interface.ts";
import { checkIntRange, type IntRule, InvalidPropsError } from "./props-error.ts";

/** Defaults and limits of the Fargate jump host props; stacks/config.ts applies the same ones. */
export const ECS_JUMP_HOST_RULES = {
  cpu: { min: 256, max: 16384, default: 256 },
  memory: { min: 512, max: 122880, default: 512 },
  logRetentionDays: { min: 1, max: 3653, default: 365 },
} as const satisfies Record<string, IntRule>;

export interface EcsJumpHostProps {
  readonly namePrefix: string;
  readonly region: string;
  readonly accountId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
  readonly kmsKeyArn: string;
  /**
   * Image with a shell for the jump container. It must live in a private ECR repository of this account
   * and region: the isolated subnets reach ECR only through the ecr.api / ecr.dkr / S3 endpoints.
   */
  readonly containerImage: string;
  /** Fargate CPU units. @default 256 */
  readonly cpu?: number;
  /** Fargate memory in MiB. @default 512 */
  readonly memory?: number;
  /** Container log retention in days. @default 365 */
  readonly logRetentionDays?: number;
  /** Extra tags for the service and its tasks (e.g. `dbtunnel:role`). @default none */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Fargate jump host reached through ECS Exec: one service with desired count 1 and
 * `enable_execute_command`, a task role holding only the four ssmmessages channel actions (plus KMS for
 * the exec session key), an execution role distinct from the task role, a non-privileged container
 * without host PID. The root filesystem stays writable because the SSM agent that ECS Exec injects
 * writes to it (aws-facts.md).
 */
export class EcsJumpHost extends Construct implements IEcsJumpHost {
  readonly kind = "ecs" as const;
  readonly cluster: EcsCluster;
  readonly service: EcsService;
  readonly taskRole: IamRole;
  readonly executionRole: IamRole;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly serviceName: string;
  readonly securityGroupId: string;
  readonly sessionTargetArns: readonly string[];
  private readonly arns: EcsClusterArns;
  private readonly region: string;

  constructor(scope: Construct, id: string, props: EcsJumpHostProps) {
    super(scope, id);
    if (!props.containerImage) {
      throw new InvalidPropsError(
        "EcsJumpHost",
        "containerImage",
        "is empty",
        "push an image with a shell (e.g. amazonlinux:2023) to a private ECR repository and pass its URI",
      );
    }
    const R = ECS_JUMP_HOST_RULES;
    checkIntRange("EcsJumpHost", "cpu", props.cpu, R.cpu.min, R.cpu.max);
    checkIntRange("EcsJumpHost", "memory", props.memory, R.memory.min, R.memory.max);
    checkIntRange(
      "EcsJumpHost",
      "logRetentionDays",
      props.logRetentionDays,
      R.logRetentionDays.min,
      R.logRetentionDays.max,
    );
    const name = `${props.namePrefix}-jumphost`;
    const trust = (service: string) =>
      policyDocument([
        {
          Effect: "Allow",
          Principal: { Service: service },
          Action: "sts:AssumeRole",
          // Confused-deputy guard: only ECS acting for this account may assume the role.
          Condition: { StringEquals: { "aws:SourceAccount": props.accountId } },
        },
      ]);

    const logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: `/dbtunnel/${props.namePrefix}/jumphost`,
      kmsKeyId: props.kmsKeyArn,
      retentionInDays: props.logRetentionDays ?? R.logRetentionDays.default,
    });

    this.cluster = new EcsCluster(this, "cluster", {
      name,
      setting: [{ name: "containerInsights", value: "enabled" }],
      configuration: { executeCommandConfiguration: { kmsKeyId: props.kmsKeyArn, logging: "DEFAULT" } },
    });

    this.executionRole = new IamRole(this, "execution-role", {
      name: `${name}-execution`,
      assumeRolePolicy: trust("ecs-tasks.amazonaws.com"),
    });
    new IamRolePolicy(this, "execution-policy", {
      name: "pull-image-write-logs",
      role: this.executionRole.id,
      policy: policyDocument([
        // Only an image in the account's private ECR needs registry credentials; an image pulled from a
        // public registry must not get them (CKV_AWS_286: credential exposure).
        ...(isPrivateEcrImage(props.containerImage)
          ? ([
              // GetAuthorizationToken has no resource type in IAM: "*" is the only possible resource.
              { Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
              {
                Sid: "PullFromThisAccountsRepositories",
                Effect: "Allow",
                Action: [
                  "ecr:BatchGetImage",
                  "ecr:GetDownloadUrlForLayer",
                  "ecr:BatchCheckLayerAvailability",
                ],
                Resource: arn(this, {
                  service: "ecr",
                  region: props.region,
                  account: props.accountId,
                  // The one repository the image comes from (the whole account's when it cannot be read).
                  resource: `repository/${ecrRepositoryOf(props.containerImage) ?? "*"}`,
                }),
              },
            ] satisfies PolicyStatement[])
          : []),
        {
          Sid: "WriteContainerLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: `${logGroup.arn}:*`,
        },
      ]),
    });

    this.taskRole = new IamRole(this, "task-role", {
      name: `${name}-task`,
      assumeRolePolicy: trust("ecs-tasks.amazonaws.com"),
    });
    const taskStatements: PolicyStatement[] = [
      sessionChannelsStatement("EcsExecChannels"),
      { Sid: "DecryptExecSessionData", Effect: "Allow", Action: "kms:Decrypt", Resource: props.kmsKeyArn },
    ];
    new IamRolePolicy(this, "task-policy", {
      name: "ecs-exec",
      role: this.taskRole.id,
      policy: policyDocument(taskStatements),
    });

    const task = new EcsTaskDefinition(this, "task", {
      family: name,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(props.cpu ?? R.cpu.default),
      memory: String(props.memory ?? R.memory.default),
      executionRoleArn: this.executionRole.arn,
      taskRoleArn: this.taskRole.arn,
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
      containerDefinitions: JSON.stringify([
        {
          name: "jumphost",
          image: props.containerImage,
          essential: true,
          command: ["sleep", "infinity"],
          privileged: false,
          // The ECS Exec agent is bind-mounted and writes state into the container filesystem.
          readonlyRootFilesystem: false,
          linuxParameters: { initProcessEnabled: true },
          logConfiguration: {
            logDriver: "awslogs",
            options: {
              "awslogs-group": logGroup.name,
              "awslogs-region": props.region,
              "awslogs-stream-prefix": "jumphost",
            },
          },
        },
      ]),
    });

    this.service = new EcsService(this, "service", {
      name,
      cluster: this.cluster.arn,
      taskDefinition: task.arn,
      desiredCount: 1,
      launchType: "FARGATE",
      enableExecuteCommand: true,
      propagateTags: "SERVICE",
      networkConfiguration: {
        subnets: [...props.subnetIds],
        securityGroups: [props.securityGroupId],
        assignPublicIp: false,
      },
      tags: { Name: name, ...props.tags },
    });
    this.clusterName = this.cluster.name;
    this.serviceName = this.service.name;
    this.securityGroupId = props.securityGroupId;
    this.region = props.region;
    // Built once: the session targets and the task lookups name the same ARNs.
    this.arns = ecsClusterArns(this, {
      name: this.cluster.name,
      arn: this.cluster.arn,
      region: props.region,
      accountId: props.accountId,
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

/** `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/repo:tag`: an image in a private ECR registry. */
/** `<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]` → `<repo>`; undefined for a token. */
export function ecrRepositoryOf(image: string): string | undefined {
  const m = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+?)(?:[:@].*)?$/.exec(
    image,
  );
  return m?.[1];
}

export function isPrivateEcrImage(image: string): boolean {
  return /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//.test(image);
}
