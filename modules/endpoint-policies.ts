import type { IConstruct } from "constructs";
import { arn } from "./aws-context.ts";
import { type PolicyStatement, policyDocument } from "./iam-document.ts";

/**
 * Endpoint policies. Without one, an endpoint admits any principal to any resource: a session forwarded
 * to an endpoint (or the jump host itself) could make calls that look as if they came from this VPC
 * (satisfying `aws:SourceVpc(e)` conditions elsewhere), and the S3 gateway endpoint reaches every bucket
 * of every account.
 */

/**
 * AWS-owned buckets the SSM Agent reads (agent updates, documents, plugins, packages), per region.
 * Source: Systems Manager user guide, "SSM Agent technical details" → "SSM Agent communications with AWS
 * managed S3 buckets" (minimum S3 permissions).
 */
export function ssmAgentBuckets(region: string): string[] {
  return [
    `aws-windows-downloads-${region}`,
    `amazon-ssm-${region}`,
    `amazon-ssm-packages-${region}`,
    `${region}-birdwatcher-prod`,
    `aws-ssm-distributor-file-${region}`,
    `aws-ssm-document-attachments-${region}`,
    `patch-baseline-snapshot-${region}`,
    `aws-ssm-${region}`,
  ];
}

/**
 * The bucket Amazon ECR serves image layers from, for a Fargate jump host pulling from private ECR.
 * Source: Amazon ECR user guide, "Amazon ECR interface VPC endpoints (AWS PrivateLink)" → "Create the
 * Amazon S3 gateway endpoint" (minimum S3 bucket permissions for Amazon ECR).
 */
export function ecrLayerBuckets(region: string): string[] {
  return [`prod-${region}-starport-layer-bucket`];
}

const thisAccount = (accountId: string) => ({ StringEquals: { "aws:PrincipalAccount": accountId } });

/** Interface endpoints: any action of the service, for principals of this account only. */
export function interfaceEndpointPolicy(accountId: string): string {
  return policyDocument([
    {
      Sid: "PrincipalsOfThisAccountOnly",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "*",
      Resource: "*",
      Condition: thisAccount(accountId),
    },
  ]);
}

export interface S3EndpointPolicyProps {
  readonly region: string;
  readonly accountId: string;
  /** Buckets of this stack the jump host writes to (the session-log bucket), as bucket ARNs. */
  readonly writableBucketArns: readonly string[];
  /** Also the ECR layer bucket (a Fargate jump host pulling from private ECR). */
  readonly ecrLayers: boolean;
}

/** The S3 gateway endpoint: the stack's own buckets and the AWS-owned buckets the agent needs, nothing else. */
export function s3EndpointPolicy(scope: IConstruct, props: S3EndpointPolicyProps): string {
  const objectsOf = (bucket: string) => arn(scope, { service: "s3", resource: `${bucket}/*` });
  const readOnly = [
    ...ssmAgentBuckets(props.region),
    ...(props.ecrLayers ? ecrLayerBuckets(props.region) : []),
  ];
  const statements: PolicyStatement[] = [
    {
      Sid: "AwsOwnedBucketsTheAgentReads",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: "s3:GetObject",
      Resource: readOnly.map(objectsOf),
      Condition: thisAccount(props.accountId),
    },
  ];
  if (props.writableBucketArns.length > 0) {
    statements.push({
      Sid: "StackBuckets",
      Effect: "Allow",
      Principal: { AWS: "*" },
      Action: ["s3:PutObject", "s3:GetObject", "s3:GetEncryptionConfiguration", "s3:GetBucketLocation"],
      Resource: props.writableBucketArns.flatMap((bucket) => [bucket, `${bucket}/*`]),
      Condition: thisAccount(props.accountId),
    });
  }
  return policyDocument(statements);
}
