/**
 * The engines the Database module creates come from contract/engines.ts (one table for the modules, the
 * CLI and the policy); this file adds what the rest of the stack needs to know about a database.
 */
import type { DatabaseEngine } from "../contract/engines.ts";

export {
  CREATABLE_ENGINES,
  DATABASE_ENGINES,
  type DatabaseEngine,
  ENGINE_FACTS,
} from "../contract/engines.ts";

/** What the rest of the stack needs to know about the database, whether created or existing. */
export interface DatabaseTarget {
  readonly engine: DatabaseEngine;
  readonly identifier: string;
  /** Hostname only. */
  readonly endpoint: string;
  readonly port: number;
  /** DbiResourceId, or the cluster resource id for Aurora (the id in rds-db:connect ARNs). */
  readonly resourceId: string;
  readonly databaseName: string;
  readonly masterUsername: string;
  /** Secrets Manager secret with the master password; "" when the database does not manage one. */
  readonly masterSecretArn: string;
  readonly securityGroupId: string;
  /** Admits the database port from one security group (the jump host's) and nothing else. */
  allowConnectionsFrom(id: string, sourceSecurityGroupId: string): void;
}
