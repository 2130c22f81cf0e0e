/** Engines the Database module supports, with the defaults and TLS-forcing parameter for each. */
export type DatabaseEngine = "postgres" | "aurora-postgresql" | "mysql";

export const DATABASE_ENGINES: readonly DatabaseEngine[] = ["postgres", "aurora-postgresql", "mysql"];

export interface EngineSpec {
  readonly defaultVersion: string;
  /** Parameter-group family for a given version. */
  family(version: string): string;
  readonly defaultPort: number;
  readonly defaultInstanceClass: string;
  /** Parameter that makes the server refuse non-TLS connections. */
  readonly tlsParameter: { readonly name: string; readonly value: string };
  readonly logExports: readonly string[];
  readonly isCluster: boolean;
}

const major = (version: string) => version.split(".")[0] ?? version;

export const ENGINE_SPECS: Readonly<Record<DatabaseEngine, EngineSpec>> = {
  postgres: {
    defaultVersion: "16",
    family: (v) => `postgres${major(v)}`,
    defaultPort: 5432,
    defaultInstanceClass: "db.t4g.micro",
    tlsParameter: { name: "rds.force_ssl", value: "1" },
    logExports: ["postgresql", "upgrade"],
    isCluster: false,
  },
  "aurora-postgresql": {
    defaultVersion: "16.6",
    family: (v) => `aurora-postgresql${major(v)}`,
    defaultPort: 5432,
    defaultInstanceClass: "db.t4g.medium",
    tlsParameter: { name: "rds.force_ssl", value: "1" },
    logExports: ["postgresql"],
    isCluster: true,
  },
  mysql: {
    defaultVersion: "8.0",
    family: (v) => `mysql${v.split(".").slice(0, 2).join(".")}`,
    defaultPort: 3306,
    defaultInstanceClass: "db.t4g.micro",
    tlsParameter: { name: "require_secure_transport", value: "ON" },
    // The audit log needs an option group (MariaDB audit plugin); these three need nothing extra.
    logExports: ["error", "general", "slowquery"],
    isCluster: false,
  },
};

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
