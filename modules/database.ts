import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { RdsCluster } from "@cdktf/provider-aws/lib/rds-cluster";
import { RdsClusterInstance } from "@cdktf/provider-aws/lib/rds-cluster-instance";
import { RdsClusterParameterGroup } from "@cdktf/provider-aws/lib/rds-cluster-parameter-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Annotations } from "cdktf";
import { Construct } from "constructs";
import {
  CREATABLE_ENGINES,
  type DatabaseEngine,
  ENGINE_FACTS,
  type EngineCreateFacts,
} from "../contract/engines.ts";
import { IAM_USERS_TAG, iamUsersTagValue, ROLE_TAG, ROLES, TAG_VALUE_MAX } from "../contract/tags.ts";
import { dbUserProblem } from "../contract/values.ts";
import { arn } from "./aws-context.ts";
import { grantConnectTo, type IDatabase } from "./database-interface.ts";
import { ExistingDatabase, type ExistingDatabaseProps } from "./existing-database.ts";
import type { IPrincipal } from "./grant.ts";
import { policyDocument } from "./iam-document.ts";
import {
  checkIntRange,
  checkPattern,
  type IntRule,
  InvalidPropsError,
  isLiteral,
  type PatternRule,
} from "./props-error.ts";

/** CA that signs the server certificate; covered by the RDS global bundle the CLI trusts. */
export const DATABASE_CA = "rds-ca-rsa2048-g1";

export interface DatabaseProps {
  readonly namePrefix: string;
  readonly vpcId: string;
  /** Private subnets in at least two AZs. */
  readonly subnetIds: readonly string[];
  readonly kmsKeyArn: string;
  /** @default "postgres" */
  readonly engine?: DatabaseEngine;
  /** @default `<namePrefix>-db` */
  readonly identifier?: string;
  /** @default "16" (postgres), "16.6" (aurora-postgresql), "8.0" (mysql), "8.0.mysql_aurora.3.08.0" (aurora-mysql) */
  readonly engineVersion?: string;
  /** @default "db.t4g.micro" ("db.t4g.medium" for Aurora) */
  readonly instanceClass?: string;
  /** @default 5432 (3306 for mysql) */
  readonly port?: number;
  /** Initial database. @default "app" */
  readonly databaseName?: string;
  /** Master user; its password is generated and kept by Secrets Manager. @default "dbadmin" */
  readonly masterUsername?: string;
  /** Storage in GiB (not Aurora). @default 20 */
  readonly allocatedStorageGiB?: number;
  /** Automated backup retention, 2-35 days. @default 7 */
  readonly backupRetentionDays?: number;
  /**
   * Refuse deletion. Turn off only for throwaway test stacks (a synth warning says so); off also skips
   * the final snapshot. @default true
   */
  readonly deletionProtection?: boolean;
  /** Multi-AZ, enhanced monitoring (60 s) and Performance Insights with the stack key. @default false */
  readonly production?: boolean;
  /**
   * IAM database users, written to the `dbtunnel:iam-users` tag so engineers who find the stack by tags
   * (no outputs file) get the same default login as from output `db_iam_users`. @default none (no tag)
   */
  readonly iamUsers?: readonly string[];
}

const NAME = "Database";

/** Defaults and limits of DatabaseProps; stacks/config.ts applies the same ones to dbtunnel.config.json. */
export const DATABASE_RULES = {
  identifier: {
    pattern: /^[a-z](?!.*--)(?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    hint: "use 1-63 lowercase letters, digits and single hyphens, starting with a letter",
  },
  /** databaseName and masterUsername. */
  name: {
    pattern: /^[a-zA-Z][a-zA-Z0-9_]{0,15}$/,
    hint: "use 1-16 letters, digits or underscores, starting with a letter",
  },
  engineVersion: { pattern: /^\d+(\.\d+)*$/, hint: 'use a version such as "16" or "8.0"' },
  instanceClass: { pattern: /^db\.[a-z0-9]+\.[a-z0-9]+$/, hint: 'use a class such as "db.t4g.micro"' },
  port: { min: 1150, max: 65535 },
  allocatedStorageGiB: { min: 20, max: 65536, default: 20 },
  backupRetentionDays: { min: 2, max: 35, default: 7 },
  defaultDatabaseName: "app",
  defaultMasterUsername: "dbadmin",
  defaultDeletionProtection: true,
} as const satisfies Record<string, PatternRule | IntRule | string | boolean>;

/**
 * RDS PostgreSQL (default), Aurora PostgreSQL or MySQL in private subnets: not publicly accessible,
 * storage encrypted with the stack key, IAM authentication on, master password managed by Secrets
 * Manager, TLS forced by the parameter group, log exports, backups, deletion protection, CA
 * rds-ca-rsa2048-g1 and automatic minor upgrades. Its security group starts empty; the stack admits the
 * jump host with `allowConnectionsFrom`.
 */
export class Database extends Construct implements IDatabase {
  readonly engine: DatabaseEngine;
  readonly identifier: string;
  readonly endpoint: string;
  readonly port: number;
  readonly resourceId: string;
  readonly databaseName: string;
  readonly masterUsername: string;
  readonly masterSecretArn: string;
  readonly securityGroupId: string;
  readonly instance?: DbInstance;
  readonly cluster?: RdsCluster;
  /** The port as configured (a literal, unlike `port` which is read back from AWS). */
  readonly literalPort: number;

  /**
   * Brings your own database: reads an existing RDS instance (or Aurora cluster) through a data source.
   * The stack does not manage its encryption, TLS parameter or IAM authentication: enable IAM database
   * authentication and force TLS on it yourself (the policy checks cannot see it).
   */
  static fromExisting(scope: Construct, id: string, props: ExistingDatabaseProps): IDatabase {
    return new ExistingDatabase(scope, id, props);
  }

  get connectionPort(): number {
    return this.literalPort;
  }

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    this.engine = props.engine ?? "postgres";
    const facts = ENGINE_FACTS[this.engine];
    if (!facts?.create) {
      throw new InvalidPropsError(
        NAME,
        "engine",
        `is "${this.engine}"`,
        `use one of ${CREATABLE_ENGINES.join(", ")}`,
      );
    }
    const spec: EngineCreateFacts & { isCluster: boolean; tlsParameter: { name: string; value: string } } = {
      ...facts.create,
      isCluster: facts.isCluster,
      tlsParameter: facts.tlsParameter,
    };
    const R = DATABASE_RULES;
    checkIntRange(NAME, "port", props.port, R.port.min, R.port.max);
    checkIntRange(
      NAME,
      "allocatedStorageGiB",
      props.allocatedStorageGiB,
      R.allocatedStorageGiB.min,
      R.allocatedStorageGiB.max,
    );
    checkIntRange(
      NAME,
      "backupRetentionDays",
      props.backupRetentionDays,
      R.backupRetentionDays.min,
      R.backupRetentionDays.max,
    );
    checkPattern(NAME, "engineVersion", props.engineVersion, R.engineVersion);
    checkPattern(NAME, "instanceClass", props.instanceClass, R.instanceClass);
    if (props.subnetIds.length < 2) {
      throw new InvalidPropsError(
        NAME,
        "subnetIds",
        `has ${props.subnetIds.length} subnet(s)`,
        "give at least two subnets in different AZs (RDS requires it)",
      );
    }
    this.identifier = props.identifier ?? `${props.namePrefix}-db`;
    if (isLiteral(this.identifier) && !R.identifier.pattern.test(this.identifier)) {
      throw new InvalidPropsError(
        NAME,
        "identifier",
        `"${this.identifier}" is not a valid RDS identifier`,
        R.identifier.hint,
      );
    }
    this.databaseName = props.databaseName ?? R.defaultDatabaseName;
    this.masterUsername = props.masterUsername ?? R.defaultMasterUsername;
    for (const [field, value] of [
      ["databaseName", this.databaseName],
      ["masterUsername", this.masterUsername],
    ] as const) {
      if (isLiteral(value) && !R.name.pattern.test(value)) {
        throw new InvalidPropsError(NAME, field, `"${value}" is not a valid name`, R.name.hint);
      }
    }
    const port = props.port ?? facts.defaultPort;
    const version = props.engineVersion ?? spec.defaultVersion;
    const deletionProtection = props.deletionProtection ?? R.defaultDeletionProtection;
    if (!deletionProtection) {
      Annotations.of(this).addWarning(
        `${NAME} ${this.identifier}: deletion protection is OFF and no final snapshot is taken; use this only for throwaway test stacks`,
      );
    }
    const production = props.production ?? false;

    const sg = new SecurityGroup(this, "sg", {
      name: `${props.namePrefix}-database`,
      description: "dbtunnel database: the DB port from the jump host only",
      vpcId: props.vpcId,
      tags: { Name: `${props.namePrefix}-database` },
    });
    this.securityGroupId = sg.id;
    const subnetGroup = new DbSubnetGroup(this, "subnets", {
      name: `${props.namePrefix}-db`,
      subnetIds: [...props.subnetIds],
    });
    const monitoringRoleArn = production ? this.monitoringRole(props.namePrefix).arn : undefined;
    const common = {
      engine: this.engine,
      engineVersion: version,
      storageEncrypted: true,
      kmsKeyId: props.kmsKeyArn,
      iamDatabaseAuthenticationEnabled: true,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.kmsKeyArn,
      port,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [sg.id],
      backupRetentionPeriod: props.backupRetentionDays ?? R.backupRetentionDays.default,
      deletionProtection,
      enabledCloudwatchLogsExports: [...spec.logExports],
      copyTagsToSnapshot: true,
      skipFinalSnapshot: !deletionProtection,
      finalSnapshotIdentifier: deletionProtection ? `${this.identifier}-final` : undefined,
    };
    const instanceSettings = {
      instanceClass: props.instanceClass ?? spec.defaultInstanceClass,
      publiclyAccessible: false,
      caCertIdentifier: DATABASE_CA,
      autoMinorVersionUpgrade: true,
      monitoringInterval: production ? 60 : 0,
      monitoringRoleArn,
      performanceInsightsEnabled: production,
      performanceInsightsKmsKeyId: production ? props.kmsKeyArn : undefined,
    };
    const roleTags = { Name: this.identifier, [ROLE_TAG]: ROLES.database, ...iamUsersTag(props.iamUsers) };

    if (spec.isCluster) {
      if (props.allocatedStorageGiB !== undefined) {
        throw new InvalidPropsError(
          NAME,
          "allocatedStorageGiB",
          "is set for Aurora",
          "remove it (Aurora storage grows automatically)",
        );
      }
      const params = new RdsClusterParameterGroup(this, "params", {
        name: `${props.namePrefix}-db-tls`,
        family: spec.family(version),
        description: "dbtunnel: TLS required",
        parameter: [spec.tlsParameter],
      });
      const cluster = new RdsCluster(this, "cluster", {
        ...common,
        clusterIdentifier: this.identifier,
        masterUsername: this.masterUsername,
        databaseName: this.databaseName,
        dbClusterParameterGroupName: params.name,
        tags: roleTags,
      });
      // Production: a second instance in another AZ is Aurora's Multi-AZ.
      const count = production ? 2 : 1;
      for (let i = 1; i <= count; i++) {
        new RdsClusterInstance(this, `instance-${i}`, {
          ...instanceSettings,
          identifier: `${this.identifier}-${i}`,
          clusterIdentifier: cluster.id,
          engine: this.engine,
          engineVersion: version,
          dbSubnetGroupName: subnetGroup.name,
          tags: roleTags,
        });
      }
      this.cluster = cluster;
      this.endpoint = cluster.endpoint;
      this.port = cluster.port;
      this.resourceId = cluster.clusterResourceId;
      this.masterSecretArn = cluster.masterUserSecret.get(0).secretArn;
    } else {
      const params = new DbParameterGroup(this, "params", {
        name: `${props.namePrefix}-db-tls`,
        family: spec.family(version),
        description: "dbtunnel: TLS required",
        parameter: [spec.tlsParameter],
      });
      const instance = new DbInstance(this, "instance", {
        ...common,
        ...instanceSettings,
        identifier: this.identifier,
        // aws_db_instance calls it `username` (aws_rds_cluster: `master_username`).
        username: this.masterUsername,
        dbName: this.databaseName,
        allocatedStorage: props.allocatedStorageGiB ?? R.allocatedStorageGiB.default,
        storageType: "gp3",
        multiAz: production,
        parameterGroupName: params.name,
        tags: roleTags,
      });
      this.instance = instance;
      this.endpoint = instance.address;
      this.port = instance.port;
      this.resourceId = instance.resourceId;
      this.masterSecretArn = instance.masterUserSecret.get(0).secretArn;
    }
    this.literalPort = port;
  }

  allowConnectionsFrom(id: string, sourceSecurityGroupId: string): void {
    // No `description`: moto drops it for group-referencing rules and every plan would show a diff.
    new VpcSecurityGroupIngressRule(this, id, {
      securityGroupId: this.securityGroupId,
      referencedSecurityGroupId: sourceSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: this.literalPort,
      toPort: this.literalPort,
    });
  }

  grantConnect(principal: IPrincipal, users: readonly string[]): void {
    grantConnectTo(this, principal, users);
  }

  /** Inline equivalent of AmazonRDSEnhancedMonitoringRole, scoped to the RDSOSMetrics log group. */
  private monitoringRole(prefix: string): IamRole {
    const role = new IamRole(this, "monitoring-role", {
      name: `${prefix}-rds-monitoring`,
      assumeRolePolicy: policyDocument([
        { Effect: "Allow", Principal: { Service: "monitoring.rds.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]),
    });
    new IamRolePolicy(this, "monitoring-policy", {
      name: "enhanced-monitoring",
      role: role.id,
      policy: policyDocument([
        {
          Sid: "WriteOsMetrics",
          Effect: "Allow",
          Action: [
            "logs:CreateLogGroup",
            "logs:PutRetentionPolicy",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogStreams",
          ],
          Resource: ["RDSOSMetrics", "RDSOSMetrics:*"].map((group) =>
            arn(this, { service: "logs", region: "*", account: "*", resource: `log-group:${group}` }),
          ),
        },
      ]),
    });
    return role;
  }
}

/** The `dbtunnel:iam-users` tag for these users (none for none); every name must be a valid user name. */
function iamUsersTag(users: readonly string[] | undefined): Record<string, string> {
  if (!users || users.length === 0) return {};
  for (const user of users) {
    const problem = dbUserProblem(user);
    if (problem)
      throw new InvalidPropsError(NAME, "iamUsers", problem, "use letters, digits and underscores");
  }
  const value = iamUsersTagValue(users);
  if (value.length > TAG_VALUE_MAX) {
    throw new InvalidPropsError(
      NAME,
      "iamUsers",
      `needs ${value.length} characters in tag ${IAM_USERS_TAG} (at most ${TAG_VALUE_MAX})`,
      "list fewer or shorter database users",
    );
  }
  return { [IAM_USERS_TAG]: value };
}
