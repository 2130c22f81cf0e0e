import { DataAwsDbInstance } from "@cdktf/provider-aws/lib/data-aws-db-instance";
import { DataAwsRdsCluster } from "@cdktf/provider-aws/lib/data-aws-rds-cluster";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { DATABASE_ENGINES, type DatabaseEngine, ENGINE_FACTS } from "../contract/engines.ts";
import { grantConnectTo, type IDatabase } from "./database-interface.ts";
import type { IPrincipal } from "./grant.ts";
import { InvalidPropsError } from "./props-error.ts";

export interface ExistingDatabaseProps {
  /** DB instance identifier, or the cluster identifier for Aurora. */
  readonly identifier: string;
  /** @default "postgres" */
  readonly engine?: DatabaseEngine;
  /**
   * A security group attached to the database. The stack adds ONE ingress rule to it (the database port
   * from the jump host's group) and points the jump host's egress at it. Prefer a group that admits
   * nothing else; the stack does not remove rules someone else added.
   */
  readonly securityGroupId: string;
}

/**
 * An existing RDS instance (or Aurora cluster) read through a data source: what `Database.fromExisting`
 * returns, as an IDatabase (use that, not this class).
 */
export class ExistingDatabase extends Construct implements IDatabase {
  readonly engine: DatabaseEngine;
  readonly identifier: string;
  readonly endpoint: string;
  readonly port: number;
  readonly resourceId: string;
  readonly databaseName: string;
  readonly masterUsername: string;
  readonly masterSecretArn: string;
  readonly securityGroupId: string;

  constructor(scope: Construct, id: string, props: ExistingDatabaseProps) {
    super(scope, id);
    this.engine = props.engine ?? "postgres";
    if (!DATABASE_ENGINES.includes(this.engine)) {
      throw new InvalidPropsError(
        "ExistingDatabase",
        "engine",
        `is "${this.engine}"`,
        `use one of ${DATABASE_ENGINES.join(", ")}`,
      );
    }
    if (!props.identifier)
      throw new InvalidPropsError(
        "ExistingDatabase",
        "identifier",
        "is empty",
        "give the RDS instance or Aurora cluster identifier",
      );
    if (!props.securityGroupId) {
      throw new InvalidPropsError(
        "ExistingDatabase",
        "securityGroupId",
        "is empty",
        "give a security group attached to the database (sg-...)",
      );
    }
    this.identifier = props.identifier;
    this.securityGroupId = props.securityGroupId;
    if (ENGINE_FACTS[this.engine].isCluster) {
      const cluster = new DataAwsRdsCluster(this, "cluster", { clusterIdentifier: props.identifier });
      this.endpoint = cluster.endpoint;
      this.port = cluster.port;
      this.resourceId = cluster.clusterResourceId;
      this.databaseName = cluster.databaseName;
      this.masterUsername = cluster.masterUsername;
      // try(): the list is empty when the database does not let Secrets Manager manage the password.
      this.masterSecretArn = Token.asString(Fn.try([cluster.masterUserSecret.get(0).secretArn, ""]));
    } else {
      const instance = new DataAwsDbInstance(this, "instance", { dbInstanceIdentifier: props.identifier });
      this.endpoint = instance.address;
      this.port = instance.port;
      this.resourceId = instance.resourceId;
      this.databaseName = instance.dbName;
      this.masterUsername = instance.masterUsername;
      this.masterSecretArn = Token.asString(Fn.try([instance.masterUserSecret.get(0).secretArn, ""]));
    }
  }

  get connectionPort(): number {
    return this.port;
  }

  grantConnect(principal: IPrincipal, users: readonly string[]): void {
    grantConnectTo(this, principal, users);
  }

  allowConnectionsFrom(id: string, sourceSecurityGroupId: string): void {
    new VpcSecurityGroupIngressRule(this, id, {
      securityGroupId: this.securityGroupId,
      referencedSecurityGroupId: sourceSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: this.port,
      toPort: this.port,
    });
  }
}
