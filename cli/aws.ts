/**
 * AWS SDK v3 clients for one region. The SDK's standard chain supplies credentials and honours
 * AWS_ENDPOINT_URL (the sandbox gateway), so the same code talks to AWS and to the sandbox. Clients are
 * created lazily and imported dynamically: `dbtunnel --help` should not pay for loading six SDKs.
 */
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { RDSClient } from "@aws-sdk/client-rds";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { STSClient } from "@aws-sdk/client-sts";
import { CliError } from "./errors.ts";

export interface AwsClients {
  readonly region: string;
  ec2(): Promise<EC2Client>;
  ecs(): Promise<ECSClient>;
  rds(): Promise<RDSClient>;
  ssm(): Promise<SSMClient>;
  sts(): Promise<STSClient>;
}

/** Where the clients go and as whom, when not from the environment (the demo's in-process sandbox). */
export interface AwsConnection {
  /** @default AWS_ENDPOINT_URL, else AWS itself */
  readonly endpoint?: string;
  /** @default the SDK's standard chain */
  readonly credentials?: AwsCredentialIdentity;
}

export interface AwsCredentialIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export function awsClients(region: string, connection: AwsConnection = {}): AwsClients {
  const cache = new Map<string, Promise<unknown>>();
  const lazy = <T>(key: string, make: () => Promise<T>): Promise<T> => {
    let client = cache.get(key) as Promise<T> | undefined;
    if (!client) {
      client = make();
      cache.set(key, client);
    }
    return client;
  };
  const config = {
    region,
    maxAttempts: 3,
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
  };
  return {
    region,
    ec2: () => lazy("ec2", async () => new (await import("@aws-sdk/client-ec2")).EC2Client(config)),
    ecs: () => lazy("ecs", async () => new (await import("@aws-sdk/client-ecs")).ECSClient(config)),
    rds: () => lazy("rds", async () => new (await import("@aws-sdk/client-rds")).RDSClient(config)),
    ssm: () => lazy("ssm", async () => new (await import("@aws-sdk/client-ssm")).SSMClient(config)),
    sts: () => lazy("sts", async () => new (await import("@aws-sdk/client-sts")).STSClient(config)),
  };
}

/** Region from the flag, else the SDK's own resolution (AWS_REGION, AWS_DEFAULT_REGION, profile config). */
export async function resolveRegion(flag?: string): Promise<string> {
  if (flag) return flag;
  const fromEnv = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  try {
    const { STSClient } = await import("@aws-sdk/client-sts");
    const region = await new STSClient({}).config.region();
    if (region) return region;
  } catch {}
  throw new CliError(
    "No AWS region configured: pass --region <region> or set AWS_REGION (or give --outputs <file>).",
    {
      code: "NoRegion",
    },
  );
}
