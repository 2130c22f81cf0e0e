import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Construct } from "constructs";
import { arn, dnsSuffixOf } from "./aws-context.ts";
import { policyDocument } from "./iam-document.ts";
import { checkIntRange, InvalidPropsError } from "./props-error.ts";

export interface EncryptionKeyProps {
  /** Account that owns the key (token from `aws_caller_identity` is fine). */
  readonly accountId: string;
  /** Region of the stack; scopes the CloudWatch Logs service grant. */
  readonly region: string;
  /** Alias name without the `alias/` prefix, e.g. `dbtunnel-dev`. */
  readonly aliasName: string;
  /**
   * Log-group name pattern the CloudWatch Logs service may use the key for (encryption-context condition).
   * @default "*" (any log group of this account and region)
   */
  readonly logGroupPattern?: string;
  /** Days before a scheduled deletion takes effect. @default 30 */
  readonly deletionWindowDays?: number;
}

/**
 * The stack's customer-managed KMS key: rotation on and an explicit key policy. Only the account root
 * (which delegates to IAM policies) and the CloudWatch Logs service, bound to this account's log groups
 * by the `kms:EncryptionContext:aws:logs:arn` condition, appear as principals; never a bare `*`.
 */
export class EncryptionKey extends Construct {
  readonly key: KmsKey;
  readonly keyArn: string;
  readonly keyId: string;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    checkIntRange("EncryptionKey", "deletionWindowDays", props.deletionWindowDays, 7, 30);
    if (!/^[a-zA-Z0-9/_-]{1,200}$/.test(props.aliasName) || props.aliasName.startsWith("aws/")) {
      throw new InvalidPropsError(
        "EncryptionKey",
        "aliasName",
        `"${props.aliasName}" is not a valid alias name`,
        "use letters, digits, '/', '_' or '-' without the alias/ prefix (aws/ is reserved)",
      );
    }
    const logsArn = arn(this, {
      service: "logs",
      region: props.region,
      account: props.accountId,
      resource: `log-group:${props.logGroupPattern ?? "*"}`,
    });
    this.key = new KmsKey(this, "key", {
      description: `dbtunnel ${props.aliasName}: database storage, session logs, jump host volumes`,
      enableKeyRotation: true,
      deletionWindowInDays: props.deletionWindowDays ?? 30,
      policy: policyDocument([
        {
          // Standard root statement: lets IAM policies in this account grant use of the key.
          Sid: "AccountRootManagesKeyViaIam",
          Effect: "Allow",
          Principal: { AWS: arn(this, { service: "iam", account: props.accountId, resource: "root" }) },
          Action: "kms:*",
          Resource: "*",
        },
        {
          Sid: "CloudWatchLogsEncryptsThisAccountsLogGroups",
          Effect: "Allow",
          // China: logs.<region>.amazonaws.com.cn.
          Principal: { Service: `logs.${props.region}.${dnsSuffixOf(this)}` },
          Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
          Resource: "*",
          Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": logsArn } },
        },
      ]),
    });
    this.keyArn = this.key.arn;
    this.keyId = this.key.keyId;
    new KmsAlias(this, "alias", { name: `alias/${props.aliasName}`, targetKeyId: this.key.keyId });
  }
}
