import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { SsmDocument } from "@cdktf/provider-aws/lib/ssm-document";
import { Construct } from "constructs";
import { policyDocument } from "./iam-document.ts";
import { checkIntRange, type IntRule, InvalidPropsError } from "./props-error.ts";

/** The one document per account and region that holds Session Manager preferences. */
export const SESSION_PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell";

export interface SessionPreferencesProps {
  readonly namePrefix: string;
  readonly kmsKeyArn: string;
  /** Key id (not ARN) for the document's `kmsKeyId`. */
  readonly kmsKeyId: string;
  /** Minutes of inactivity before Session Manager ends a session, 1-60. @default 20 */
  readonly idleSessionTimeoutMinutes?: number;
  /** Hard limit on a session's length in minutes, 1-1440. @default 480 */
  readonly maxSessionDurationMinutes?: number;
  /** Retention of the session log group in days. @default 365 */
  readonly logRetentionDays?: number;
  /** Key prefix for session logs in the bucket. @default "sessions/" */
  readonly s3KeyPrefix?: string;
  /**
   * Let `terraform destroy` delete a bucket that still holds session logs. Only for test stacks.
   * @default false
   */
  readonly forceDestroyBucket?: boolean;
  /**
   * Create the `SSM-SessionManagerRunShell` document. Set to false when preferences are managed elsewhere
   * in the account (logging, bucket and log group are still created). @default true
   */
  readonly manageDocument?: boolean;
  /**
   * Adopt a preferences document that already exists (the console creates one the first time anyone opens
   * "Preferences"). Creating it again fails with DocumentAlreadyExists. When true the stack emits a
   * Terraform `import` block for `SSM-SessionManagerRunShell`, so the next `cdktf deploy` takes it over
   * and then overwrites its content. Without this option, import it once by hand:
   * `terraform -chdir=cdktf.out/stacks/<stack> import <address of the aws_ssm_document> SSM-SessionManagerRunShell`.
   * @default false
   */
  readonly adoptExistingDocument?: boolean;
}

const NAME = "SessionPreferences";

/** Defaults and limits of SessionPreferencesProps; stacks/config.ts applies the same ones. */
export const SESSION_PREFERENCES_RULES = {
  idleSessionTimeoutMinutes: { min: 1, max: 60, default: 20 },
  maxSessionDurationMinutes: { min: 1, max: 1440, default: 480 },
  logRetentionDays: { min: 1, max: 3653, default: 365 },
} as const satisfies Record<string, IntRule>;

/**
 * Session Manager preferences: the Session document with KMS key, S3 + CloudWatch logging (both
 * encrypted), idle timeout, maximum duration and run-as off; plus a hardened log bucket (KMS, public
 * access block, versioning, ownership enforced, abort-incomplete-uploads lifecycle, TLS-only policy) and
 * a KMS-encrypted log group with retention.
 *
 * NOTE: AWS does not log port-forwarding sessions to S3/CloudWatch (user guide, "Logging session
 * activity"); CloudTrail still records StartSession. Query audit belongs to the database (pgaudit,
 * Database Activity Streams). The logging here covers shell sessions, should anyone open one.
 */
export class SessionPreferences extends Construct {
  readonly bucket: S3Bucket;
  readonly logGroup: CloudwatchLogGroup;
  readonly document?: SsmDocument;

  constructor(scope: Construct, id: string, props: SessionPreferencesProps) {
    super(scope, id);
    const R = SESSION_PREFERENCES_RULES;
    for (const field of [
      "idleSessionTimeoutMinutes",
      "maxSessionDurationMinutes",
      "logRetentionDays",
    ] as const)
      checkIntRange(NAME, field, props[field], R[field].min, R[field].max);
    if (props.adoptExistingDocument && props.manageDocument === false) {
      throw new InvalidPropsError(
        NAME,
        "adoptExistingDocument",
        "is true but manageDocument is false",
        "set manageDocument to true or drop adoptExistingDocument",
      );
    }
    const prefix = props.namePrefix;

    this.bucket = new S3Bucket(this, "bucket", {
      // bucket_prefix keeps names unique across accounts; S3 limits the prefix to 37 characters.
      bucketPrefix: `${prefix.slice(0, 26)}-ssm-logs-`,
      forceDestroy: props.forceDestroyBucket ?? false,
      tags: { Name: `${prefix}-session-logs` },
    });
    const bucket = this.bucket.id;
    new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      bucket,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketVersioningA(this, "versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn },
          bucketKeyEnabled: true,
        },
      ],
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket,
      rule: [
        {
          id: "abort-incomplete-uploads-and-expire-old-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
          noncurrentVersionExpiration: [{ noncurrentDays: 90 }],
        },
      ],
    });
    new S3BucketPolicy(this, "tls-only", {
      bucket,
      policy: policyDocument([
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]),
    });

    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: `/dbtunnel/${prefix}/sessions`,
      kmsKeyId: props.kmsKeyArn,
      retentionInDays: props.logRetentionDays ?? R.logRetentionDays.default,
    });

    if (props.manageDocument === false) return;
    this.document = new SsmDocument(this, "document", {
      name: SESSION_PREFERENCES_DOCUMENT,
      documentType: "Session",
      documentFormat: "JSON",
      // JSON.stringify, not Fn.jsonencode: scanners and the policy checks read the content as JSON.
      content: JSON.stringify({
        schemaVersion: "1.0",
        description: `Session Manager preferences managed by dbtunnel (${prefix})`,
        sessionType: "Standard_Stream",
        inputs: {
          s3BucketName: this.bucket.bucket,
          s3KeyPrefix: props.s3KeyPrefix ?? "sessions/",
          s3EncryptionEnabled: true,
          cloudWatchLogGroupName: this.logGroup.name,
          cloudWatchEncryptionEnabled: true,
          cloudWatchStreamingEnabled: true,
          kmsKeyId: props.kmsKeyId,
          runAsEnabled: false,
          runAsDefaultUser: "",
          idleSessionTimeout: String(props.idleSessionTimeoutMinutes ?? R.idleSessionTimeoutMinutes.default),
          maxSessionDuration: String(props.maxSessionDurationMinutes ?? R.maxSessionDurationMinutes.default),
          shellProfile: { windows: "", linux: "" },
        },
      }),
      tags: { Name: SESSION_PREFERENCES_DOCUMENT },
    });
    if (props.adoptExistingDocument) this.document.importFrom(SESSION_PREFERENCES_DOCUMENT);
  }
}
