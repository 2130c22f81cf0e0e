import type { Rule } from "../types.ts";
import { amiSourcePinned } from "./ami-source-pinned.ts";
import { arnPartitionMatchesRegion } from "./arn-partition-matches-region.ts";
import { databaseAutoMinorUpgrade } from "./database-auto-minor-upgrade.ts";
import { databaseBackupRetention } from "./database-backup-retention.ts";
import { databaseCaCertificate } from "./database-ca-certificate.ts";
import { databaseDeletionProtection } from "./database-deletion-protection.ts";
import { databaseForceTls } from "./database-force-tls.ts";
import { databaseHighAvailabilityMonitoring } from "./database-high-availability-monitoring.ts";
import { databaseIamAuthentication } from "./database-iam-authentication.ts";
import { databaseIngressFromJumpHostOnly } from "./database-ingress-from-jump-host-only.ts";
import { databaseLogExports } from "./database-log-exports.ts";
import { databaseManagedMasterPassword } from "./database-managed-master-password.ts";
import { databaseNotPublic } from "./database-not-public.ts";
import { databaseStorageEncryptedCmk } from "./database-storage-encrypted-cmk.ts";
import { defaultSecurityGroupClosed } from "./default-security-group-closed.ts";
import { ecsTaskHardened } from "./ecs-task-hardened.ts";
import { endpointIngressFromJumpHostOnly } from "./endpoint-ingress-from-jump-host-only.ts";
import { iamNoPrivilegeEscalation } from "./iam-no-privilege-escalation.ts";
import { iamNoWildcardAction } from "./iam-no-wildcard-action.ts";
import { iamNoWildcardResource } from "./iam-no-wildcard-resource.ts";
import { iamTrustNotPublic } from "./iam-trust-not-public.ts";
import { instanceImdsv2Required } from "./instance-imdsv2-required.ts";
import { instanceNoPublicIp } from "./instance-no-public-ip.ts";
import { instanceProfileAttached } from "./instance-profile-attached.ts";
import { instanceVolumesEncrypted } from "./instance-volumes-encrypted.ts";
import { jumpHostEgressRestricted } from "./jump-host-egress-restricted.ts";
import { jumpHostNoIngress } from "./jump-host-no-ingress.ts";
import { kmsKeyPolicy } from "./kms-key-policy.ts";
import { kmsKeyRotation } from "./kms-key-rotation.ts";
import { logGroupKms } from "./log-group-kms.ts";
import { logGroupRetention } from "./log-group-retention.ts";
import { naclDenyAdminPorts } from "./nacl-deny-admin-ports.ts";
import { noAwsManagedPolicies } from "./no-aws-managed-policies.ts";
import { noCidrIngressOutsideVpc } from "./no-cidr-ingress-outside-vpc.ts";
import { noDefaultVpc } from "./no-default-vpc.ts";
import { noInternetPath } from "./no-internet-path.ts";
import { noKeyPair } from "./no-key-pair.ts";
import { noOpenAdminIngress } from "./no-open-admin-ingress.ts";
import { ownSessionsOnly } from "./own-sessions-only.ts";
import { pinnedPortDocument } from "./pinned-port-document.ts";
import { rdsConnectScoped } from "./rds-connect-scoped.ts";
import { s3DenyInsecureTransport } from "./s3-deny-insecure-transport.ts";
import { s3KmsEncryption } from "./s3-kms-encryption.ts";
import { s3LifecycleAndOwnership } from "./s3-lifecycle-and-ownership.ts";
import { s3LoggingReplicationLock } from "./s3-logging-replication-lock.ts";
import { s3PublicAccessBlock } from "./s3-public-access-block.ts";
import { s3Versioning } from "./s3-versioning.ts";
import { sessionDocumentKms } from "./session-document-kms.ts";
import { sessionDocumentLogEncryption } from "./session-document-log-encryption.ts";
import { ssmDocumentNotPublic } from "./ssm-document-not-public.ts";
import { ssmInterfaceEndpoints } from "./ssm-interface-endpoints.ts";
import { startSessionScoped } from "./start-session-scoped.ts";
import { subnetNoPublicIpOnLaunch } from "./subnet-no-public-ip-on-launch.ts";
import { userDataNoSecrets } from "./user-data-no-secrets.ts";
import { vpcEndpointPolicies } from "./vpc-endpoint-policies.ts";
import { vpcFlowLogs } from "./vpc-flow-logs.ts";

/** Every rule of shared/docs/security-rules.md, in the catalogue's order. */
export const ALL_RULES: readonly Rule[] = [
  // Zero ingress
  jumpHostNoIngress,
  noCidrIngressOutsideVpc,
  databaseIngressFromJumpHostOnly,
  endpointIngressFromJumpHostOnly,
  noInternetPath,
  naclDenyAdminPorts,
  noOpenAdminIngress,
  instanceNoPublicIp,
  subnetNoPublicIpOnLaunch,
  databaseNotPublic,
  defaultSecurityGroupClosed,
  // Database
  databaseStorageEncryptedCmk,
  databaseIamAuthentication,
  databaseDeletionProtection,
  databaseBackupRetention,
  databaseLogExports,
  databaseCaCertificate,
  databaseForceTls,
  databaseAutoMinorUpgrade,
  databaseManagedMasterPassword,
  databaseHighAvailabilityMonitoring,
  // Jump host
  instanceImdsv2Required,
  instanceVolumesEncrypted,
  userDataNoSecrets,
  instanceProfileAttached,
  amiSourcePinned,
  noKeyPair,
  jumpHostEgressRestricted,
  ecsTaskHardened,
  // Network
  vpcFlowLogs,
  noDefaultVpc,
  ssmInterfaceEndpoints,
  vpcEndpointPolicies,
  // Session Manager preferences, KMS, logs, S3
  sessionDocumentKms,
  sessionDocumentLogEncryption,
  ssmDocumentNotPublic,
  kmsKeyRotation,
  kmsKeyPolicy,
  logGroupKms,
  logGroupRetention,
  s3PublicAccessBlock,
  s3KmsEncryption,
  s3DenyInsecureTransport,
  s3Versioning,
  s3LifecycleAndOwnership,
  s3LoggingReplicationLock,
  // IAM
  iamNoWildcardAction,
  iamNoWildcardResource,
  iamNoPrivilegeEscalation,
  iamTrustNotPublic,
  startSessionScoped,
  pinnedPortDocument,
  ownSessionsOnly,
  rdsConnectScoped,
  noAwsManagedPolicies,
  arnPartitionMatchesRegion,
];
