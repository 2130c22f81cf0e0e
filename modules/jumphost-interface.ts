import type { IConstruct } from "constructs";
import { arn } from "./aws-context.ts";
import type { IPrincipal } from "./grant.ts";
import { InvalidPropsError } from "./props-error.ts";

export type JumpHostKind = "ec2" | "ecs";

export interface StartSessionGrantOptions {
  /**
   * The session documents the principal may start sessions with on this host: the stack's pinned Port
   * document (PortForwardingDocument). There is no default: the AWS-owned
   * AWS-StartPortForwardingSessionToRemoteHost takes any host and port (the jump host's own loopback,
   * the metadata service on older agents), and no IAM condition key can restrict its parameters.
   */
  readonly documentArns: readonly string[];
}

/**
 * A Session Manager target engineers forward through: an EC2 instance (`IEc2JumpHost`) or the tasks of an
 * ECS service (`IEcsJumpHost`). Each kind carries only its own fields.
 */
export interface IJumpHost extends IConstruct {
  readonly kind: JumpHostKind;
  /** The host's security group (no ingress; egress to the endpoints, S3 and the database only). */
  readonly securityGroupId: string;
  /** The ARNs `ssm:StartSession` must name for this host: the instance, or the cluster's tasks. */
  readonly sessionTargetArns: readonly string[];
  /**
   * Lets the principal start sessions on this host with the given documents only (with the
   * `ssm:SessionDocumentAccessCheck` condition) and terminate or resume its own sessions.
   */
  grantStartSession(principal: IPrincipal, options: StartSessionGrantOptions): void;
  /**
   * Lets the principal find the session target and wake it the way `dbtunnel connect` does: EC2
   * `ec2:StartInstances` on the instance; ECS `ecs:ListTasks`/`ecs:DescribeTasks` on the cluster.
   */
  grantFindAndStart(principal: IPrincipal): void;
}

export interface IEc2JumpHost extends IJumpHost {
  readonly kind: "ec2";
  readonly instanceId: string;
  readonly instanceArn: string;
}

export interface IEcsJumpHost extends IJumpHost {
  readonly kind: "ecs";
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly serviceName: string;
}

/** The StartSession grant both kinds share. */
export function grantStartSessionOn(
  host: IJumpHost,
  region: string,
  principal: IPrincipal,
  options: StartSessionGrantOptions,
): void {
  const documents = options.documentArns;
  if (documents.length === 0) {
    throw new InvalidPropsError(
      "grantStartSession",
      "documentArns",
      "is empty",
      "name the stack's pinned Port document (PortForwardingDocument.arn)",
    );
  }
  principal.addToPrincipalPolicy({
    Sid: "StartPortForwardingToJumpHostOnly",
    Effect: "Allow",
    Action: "ssm:StartSession",
    Resource: [...host.sessionTargetArns, ...documents],
    Condition: { BoolIfExists: { "ssm:SessionDocumentAccessCheck": "true" } },
  });
  principal.addToPrincipalPolicy({
    // Session ids start with the IAM user name or the role session name, while ${aws:userid} is
    // AIDA... / AROA...:<session name>, so session/${aws:userid}-* matches no real session (engineers could
    // not resume after a dropped WebSocket). Session Manager tags every session with
    // aws:ssmmessages:session-id = the starter's aws:userid (user guide, "Additional sample IAM policies
    // for Session Manager", ending only one's own sessions, method 2): that works for IAM users, assumed
    // roles and IAM Identity Center users alike.
    // "$${" reaches IAM as the literal policy variable ${aws:userid} (Terraform would interpolate "${").
    Sid: "ManageOwnSessionsOnly",
    Effect: "Allow",
    Action: ["ssm:TerminateSession", "ssm:ResumeSession"],
    Resource: arn(host, { service: "ssm", region, account: "*", resource: "session/*" }),
    Condition: { StringLike: { "ssm:resourceTag/aws:ssmmessages:session-id": "$${aws:userid}" } },
  });
}

/** What `dbtunnel connect` needs to start a stopped EC2 host. */
export function grantStartInstance(principal: IPrincipal, instanceArn: string): void {
  principal.addToPrincipalPolicy({
    Sid: "StartStoppedJumpHost",
    Effect: "Allow",
    Action: "ec2:StartInstances",
    Resource: instanceArn,
  });
}

/** The ARNs of an ECS jump host's cluster, built once for the session targets and the task lookups. */
export interface EcsClusterArns {
  readonly clusterArn: string;
  /** `.../task/<cluster>/*`: tasks are created at run time, so only the cluster can be pinned. */
  readonly tasks: string;
  readonly containerInstances: string;
}

export function ecsClusterArns(
  scope: IConstruct,
  cluster: { name: string; arn: string; region: string; accountId: string },
): EcsClusterArns {
  const base = { service: "ecs", region: cluster.region, account: cluster.accountId };
  return {
    clusterArn: cluster.arn,
    tasks: arn(scope, { ...base, resource: `task/${cluster.name}/*` }),
    containerInstances: arn(scope, { ...base, resource: `container-instance/${cluster.name}/*` }),
  };
}

/** What `dbtunnel connect` needs to find the running task of an ECS host. */
export function grantFindTasks(principal: IPrincipal, arns: EcsClusterArns): void {
  principal.addToPrincipalPolicy({
    // IAM authorizes ListTasks against container-instance ARNs plus the ecs:cluster condition
    // (ECS identity-based policy examples); both pin it to the jump host's cluster.
    Sid: "ListJumpHostTasks",
    Effect: "Allow",
    Action: "ecs:ListTasks",
    Resource: arns.containerInstances,
    Condition: { ArnEquals: { "ecs:cluster": arns.clusterArn } },
  });
  principal.addToPrincipalPolicy({
    Sid: "DescribeJumpHostTasks",
    Effect: "Allow",
    Action: "ecs:DescribeTasks",
    Resource: arns.tasks,
  });
}
