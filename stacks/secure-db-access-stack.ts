import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { StackOutputValues } from "../contract/outputs.ts";
import { STACK_TAG } from "../contract/tags.ts";
import { accountIdOf } from "../modules/aws-context.ts";
import { Database } from "../modules/database.ts";
import type { IDatabase } from "../modules/database-interface.ts";
import { EncryptionKey } from "../modules/encryption-key.ts";
import { Endpoints } from "../modules/endpoints.ts";
import { EngineerAccess } from "../modules/engineer-access.ts";
import { JumpHost } from "../modules/jumphost.ts";
import { isPrivateEcrImage } from "../modules/jumphost-ecs.ts";
import { type INetwork, Network } from "../modules/network.ts";
import { PortForwardingDocument } from "../modules/port-forwarding-document.ts";
import { SessionPreferences } from "../modules/session-preferences.ts";
import type { RuleSuppression, StackConfig } from "./config.ts";
import { addSecurityPolicy } from "./security-policy.ts";

export interface SecureDbAccessStackProps {
  /** One validated entry of `dbtunnel.config.json` `stacks`. */
  readonly config: StackConfig;
  /** Policy opt-outs (each with a reason) from `policy.suppressions`. @default none */
  readonly suppressions?: readonly RuleSuppression[];
  /** Run the security policy at synth time and fail on violations. @default true */
  readonly enforcePolicy?: boolean;
}

/**
 * One environment of the zero-inbound-port path to a private database: KMS key, isolated network,
 * Session Manager endpoints, jump host (EC2 or Fargate), database (new or existing), Session Manager
 * preferences and the engineer policy, with the outputs the CLI reads (contract: snake_case ids).
 */
export class SecureDbAccessStack extends TerraformStack {
  readonly jumpHost: JumpHost;
  readonly database: IDatabase;
  readonly access: EngineerAccess;
  readonly sessionDocument: PortForwardingDocument;

  constructor(scope: Construct, id: string, props: SecureDbAccessStackProps) {
    super(scope, id);
    const config = props.config;
    const name = config.name;

    // Nothing sandbox-specific here: the sandbox is reached through AWS_ENDPOINT_URL and friends, which
    // provider 5.100 honours. skip_requesting_account_id stays false: ARNs below need the account id.
    new AwsProvider(this, "aws", {
      region: config.region,
      skipRequestingAccountId: false,
      defaultTags: [{ tags: { ...config.tags, [STACK_TAG]: name } }],
    });
    if (config.backend) {
      new S3Backend(this, {
        bucket: config.backend.bucket,
        key: config.backend.key,
        region: config.backend.region,
        encrypt: true,
      });
      // Native S3 state locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no typed field for it.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    }

    const accountId = accountIdOf(this);
    const testStack = config.database.mode === "create" && !config.database.deletionProtection;
    const production = config.profile === "production";

    const key = new EncryptionKey(this, "key", {
      accountId,
      region: config.region,
      aliasName: `dbtunnel-${name}`,
      logGroupPattern: `/dbtunnel/${name}/*`,
      deletionWindowDays: testStack ? 7 : 30,
    });

    const net = config.network;
    const network: INetwork =
      net.mode === "create"
        ? new Network(this, "network", {
            namePrefix: name,
            kmsKeyArn: key.keyArn,
            cidr: net.cidr,
            availabilityZones: net.availabilityZones,
            allowInternetEgress: net.allowInternetEgress,
            flowLogRetentionDays: net.flowLogRetentionDays,
          })
        : Network.fromExisting(this, "network", {
            vpcId: net.vpcId,
            subnetIds: net.subnetIds,
            routeTableIds: net.routeTableIds,
          });

    const prefs = config.sessionPreferences;
    const sessionPreferences = new SessionPreferences(this, "session-preferences", {
      namePrefix: name,
      kmsKeyArn: key.keyArn,
      kmsKeyId: key.keyId,
      idleSessionTimeoutMinutes: prefs.idleSessionTimeoutMinutes,
      maxSessionDurationMinutes: prefs.maxSessionDurationMinutes,
      logRetentionDays: prefs.logRetentionDays,
      manageDocument: prefs.manageDocument,
      adoptExistingDocument: prefs.adoptExistingDocument,
      forceDestroyBucket: testStack,
    });

    const endpoints = new Endpoints(this, "endpoints", {
      namePrefix: name,
      region: config.region,
      accountId,
      // The S3 gateway endpoint reaches the session-log bucket and the AWS-owned agent buckets only.
      s3BucketArns: [sessionPreferences.bucket.arn],
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      routeTableIds: network.privateRouteTableIds,
      // A Fargate jump host pulls its image from private ECR through these (layers come via S3).
      extraServices: config.jumpHost.kind === "ecs" ? ["ecr.api", "ecr.dkr"] : [],
    });

    const db = config.database;
    this.database =
      db.mode === "create"
        ? new Database(this, "database", {
            namePrefix: name,
            vpcId: network.vpcId,
            subnetIds: network.privateSubnetIds,
            kmsKeyArn: key.keyArn,
            engine: db.engine,
            identifier: db.identifier,
            engineVersion: db.engineVersion,
            instanceClass: db.instanceClass,
            port: db.port,
            databaseName: db.name,
            masterUsername: db.masterUsername,
            allocatedStorageGiB: db.allocatedStorageGiB,
            backupRetentionDays: db.backupRetentionDays,
            deletionProtection: db.deletionProtection,
            iamUsers: db.iamUsers,
            production,
          })
        : Database.fromExisting(this, "database", {
            identifier: db.identifier,
            engine: db.engine,
            securityGroupId: db.securityGroupId,
          });

    const host = config.jumpHost;
    this.jumpHost = new JumpHost(this, "jumphost", {
      namePrefix: name,
      region: config.region,
      accountId,
      vpcId: network.vpcId,
      subnetIds: network.privateSubnetIds,
      kmsKeyArn: key.keyArn,
      endpointSecurityGroupId: endpoints.securityGroupId,
      s3PrefixListId: endpoints.s3PrefixListId,
      database: { securityGroupId: this.database.securityGroupId, port: this.database.connectionPort },
      kind: host.kind,
      ...(host.kind === "ec2"
        ? {
            instanceType: host.instanceType,
            idleStopMinutes: host.idleStopMinutes,
            volumeTags: { [STACK_TAG]: name },
          }
        : { containerImage: host.containerImage }),
      sessionLogging: {
        bucketArn: sessionPreferences.bucket.arn,
        logGroupArn: sessionPreferences.logGroup.arn,
      },
    });
    endpoints.allowHttpsFrom("ingress-from-jumphost", this.jumpHost.securityGroupId);
    this.database.allowConnectionsFrom("ingress-from-jumphost", this.jumpHost.securityGroupId);

    // The only document engineers may start sessions with: host and port pinned to the database (its
    // writer and reader endpoints for a cluster we create).
    const cluster = this.database instanceof Database ? this.database.cluster : undefined;
    this.sessionDocument = new PortForwardingDocument(this, "session-document", {
      namePrefix: name,
      hosts: [this.database.endpoint, ...(cluster ? [cluster.readerEndpoint] : [])],
      port: this.database.connectionPort,
    });

    this.access = new EngineerAccess(this, "engineer-access", {
      namePrefix: name,
      region: config.region,
      accountId,
      jumpHost: this.jumpHost,
      database: this.database,
      databaseUsers: db.iamUsers,
      kmsKeyArn: key.keyArn,
      session: { documentArns: [this.sessionDocument.arn] },
      role: config.access.role,
      groupName: config.access.groupName,
    });

    // The contract's outputs (contract/outputs.ts): the compiler checks every key is written.
    const jump = this.jumpHost.host;
    const outputs: StackOutputValues = {
      stack_name: name,
      region: config.region,
      jump_host_kind: jump.kind,
      // The contract writes "" for the other kind's outputs.
      jump_host_instance_id: jump.kind === "ec2" ? jump.instanceId : "",
      ecs_cluster: jump.kind === "ecs" ? jump.clusterName : "",
      ecs_service: jump.kind === "ecs" ? jump.serviceName : "",
      db_engine: this.database.engine,
      db_identifier: this.database.identifier,
      db_endpoint: this.database.endpoint,
      db_port: this.database.port,
      db_resource_id: this.database.resourceId,
      db_name: this.database.databaseName,
      db_iam_users: [...db.iamUsers],
      db_master_username: this.database.masterUsername,
      db_master_secret_arn: this.database.masterSecretArn,
      engineer_policy_arn: this.access.policy.arn,
      session_document_name: this.sessionDocument.name,
    };
    for (const [outputId, value] of Object.entries(outputs)) {
      new TerraformOutput(this, outputId, { value }).overrideLogicalId(outputId);
    }

    if (props.enforcePolicy ?? true) {
      addSecurityPolicy(this, [...(props.suppressions ?? []), ...builtInSuppressions(config, testStack)]);
    }
  }
}

/**
 * Opt-outs the stack and its configuration imply, each with its reason (security-rules.md allows noise
 * rules to be opted out only with a documented reason in code):
 * - always: CKV_AWS_18 family (access logging / replication / object lock) on the session-log bucket.
 * - development profile: Multi-AZ, enhanced monitoring and Performance Insights are off by design.
 * - deletionProtection false: the user explicitly asked for a throwaway test stack (synth warns too).
 */
export function builtInSuppressions(config: StackConfig, testStack: boolean): RuleSuppression[] {
  const suppressions: RuleSuppression[] = [
    {
      ruleId: "CKV_AWS_18",
      reason:
        "session-log bucket: access logging would need a second bucket (and logs of the logs), replication and object lock are out of scope; CloudTrail records every StartSession",
    },
  ];
  if (config.profile !== "production" && config.database.mode === "create") {
    suppressions.push({
      ruleId: "CKV_AWS_157",
      reason: `profile "${config.profile}": Multi-AZ, enhanced monitoring and Performance Insights are turned on by the production profile only`,
    });
  }
  if (config.jumpHost.kind === "ecs" && isPrivateEcrImage(config.jumpHost.containerImage)) {
    suppressions.push({
      ruleId: "CKV_AWS_286",
      reason:
        "the ECS execution role needs ecr:GetAuthorizationToken, which IAM cannot scope to a resource, to pull the jump host image from the account's private ECR",
    });
  }
  if (config.network.mode === "create" && config.network.allowInternetEgress) {
    suppressions.push({
      ruleId: "DBT-INGRESS-5",
      reason:
        "network.allowInternetEgress is true: the internet gateway, NAT gateway, Elastic IP and default routes were opted into explicitly",
    });
  }
  if (testStack) {
    suppressions.push({
      ruleId: "CKV_AWS_293",
      reason:
        "database.deletionProtection is false (or DBTUNNEL_DELETION_PROTECTION=false): a throwaway test stack",
    });
  }
  return suppressions;
}
