/**
 * SDK clients for the flow, configured from an explicit environment object instead of process.env: the
 * suite must never leak sandbox credentials into the test process (other tests run there), and the aws
 * target must never pick up a sandbox endpoint by accident.
 */
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECSClient } from "@aws-sdk/client-ecs";
import { IAMClient } from "@aws-sdk/client-iam";
import { KMSClient } from "@aws-sdk/client-kms";
import { RDSClient } from "@aws-sdk/client-rds";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { S3Client } from "@aws-sdk/client-s3";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { STSClient } from "@aws-sdk/client-sts";

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface ClientConfig {
  readonly region: string;
  /** The sandbox gateway; undefined for real AWS. */
  readonly endpoint?: string;
  /** Explicit credentials (sandbox); undefined = the SDK's default chain (real AWS, OIDC in CI). */
  readonly credentials?: AwsCredentials;
}

/** Reads AWS_REGION / AWS_ENDPOINT_URL / AWS_ACCESS_KEY_ID... from an env object (e.g. startSandbox().env). */
export function clientConfigFromEnv(env: Readonly<Record<string, string | undefined>>): ClientConfig {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error("AWS_REGION is not set: set it to the region the stack deploys to");
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  return {
    region,
    endpoint: env.AWS_ENDPOINT_URL || undefined,
    credentials:
      accessKeyId && secretAccessKey
        ? {
            accessKeyId,
            secretAccessKey,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          }
        : undefined,
  };
}

function base(c: ClientConfig) {
  return {
    region: c.region,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    ...(c.credentials ? { credentials: c.credentials } : {}),
  };
}

export interface AwsClients {
  readonly config: ClientConfig;
  readonly ec2: EC2Client;
  readonly rds: RDSClient;
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly sts: STSClient;
  readonly secrets: SecretsManagerClient;
  readonly tagging: ResourceGroupsTaggingAPIClient;
  readonly kms: KMSClient;
  readonly logs: CloudWatchLogsClient;
  readonly s3: S3Client;
  readonly iam: IAMClient;
  destroy(): void;
}

export function makeClients(config: ClientConfig): AwsClients {
  const b = base(config);
  const clients = {
    ec2: new EC2Client(b),
    rds: new RDSClient(b),
    ecs: new ECSClient(b),
    ssm: new SSMClient(b),
    sts: new STSClient(b),
    secrets: new SecretsManagerClient(b),
    tagging: new ResourceGroupsTaggingAPIClient(b),
    kms: new KMSClient(b),
    logs: new CloudWatchLogsClient(b),
    // moto serves S3 path-style only; real S3 accepts path-style too for these calls.
    s3: new S3Client({ ...b, forcePathStyle: config.endpoint !== undefined }),
    iam: new IAMClient(b),
  };
  return {
    config,
    ...clients,
    destroy() {
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}
