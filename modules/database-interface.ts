import type { IConstruct } from "constructs";
import type { DatabaseEngine } from "../contract/engines.ts";
import { accountIdOf, arn, regionOf } from "./aws-context.ts";
import type { IPrincipal } from "./grant.ts";
import { InvalidPropsError } from "./props-error.ts";

/**
 * A database the stack reaches, created by it (`new Database`) or brought in (`Database.fromExisting`).
 * Everything the jump host, the engineer policy and the outputs need; nothing about how it was made.
 */
export interface IDatabase extends IConstruct {
  readonly engine: DatabaseEngine;
  readonly identifier: string;
  /** Hostname only. */
  readonly endpoint: string;
  /** The port as AWS reports it (a Terraform reference). */
  readonly port: number;
  /**
   * The port for security-group rules: the configured literal when the stack creates the database (so
   * plans stay readable and the policy can check it), the data source's value for an existing one.
   */
  readonly connectionPort: number;
  /** DbiResourceId, or the cluster resource id for Aurora (the id in rds-db:connect ARNs). */
  readonly resourceId: string;
  readonly databaseName: string;
  readonly masterUsername: string;
  /** Secrets Manager secret with the master password; "" when the database does not manage one. */
  readonly masterSecretArn: string;
  readonly securityGroupId: string;
  /** Admits the database port from one security group (the jump host's) and nothing else. */
  allowConnectionsFrom(id: string, sourceSecurityGroupId: string): void;
  /**
   * Lets the principal log in as each of `users` with an IAM token (`rds-db:connect` on exactly
   * `arn:<partition>:rds-db:<region>:<account>:dbuser:<resource id>/<user>`, no wildcard).
   */
  grantConnect(principal: IPrincipal, users: readonly string[]): void;
}

/** The grant both database kinds share: one statement naming each user of this database. */
export function grantConnectTo(
  database: IDatabase,
  principal: IPrincipal,
  users: readonly string[],
  sid = "ConnectAsNamedDatabaseUsers",
): void {
  if (users.length === 0) {
    throw new InvalidPropsError(
      database.node.path,
      "grantConnect users",
      "is empty",
      "name at least one database user the principal logs in as",
    );
  }
  const bad = users.find((user) => user.includes("*") || user.includes("/") || user === "");
  if (bad !== undefined) {
    throw new InvalidPropsError(
      database.node.path,
      "grantConnect users",
      `includes "${bad}"`,
      "name each user exactly",
    );
  }
  principal.addToPrincipalPolicy({
    Sid: sid,
    Effect: "Allow",
    Action: "rds-db:connect",
    Resource: users.map((user) =>
      arn(database, {
        service: "rds-db",
        region: regionOf(database),
        account: accountIdOf(database),
        resource: `dbuser:${database.resourceId}/${user}`,
      }),
    ),
  });
}
