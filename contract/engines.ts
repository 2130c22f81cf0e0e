/**
 * The database engines dbtunnel knows, and what every part needs to know about each: the wire protocol
 * the CLI speaks, the default port, whether RDS runs it as a cluster, how RDS names the engine, the
 * parameter that forces TLS (the policy checks it), and, for the engines the Database module can create,
 * the creation defaults. One table: the modules, the stack config, the CLI and the policy read it.
 */

export const DATABASE_ENGINES = ["postgres", "aurora-postgresql", "mysql", "aurora-mysql"] as const;

export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];

/** The wire protocol (and client family) of an engine. */
export type EngineProtocol = "postgres" | "mysql";

/** What the Database module needs to create an engine. */
export interface EngineCreateFacts {
  readonly defaultVersion: string;
  /** Parameter-group family for a given version. */
  family(version: string): string;
  readonly defaultInstanceClass: string;
  readonly logExports: readonly string[];
}

export interface EngineFacts {
  readonly protocol: EngineProtocol;
  readonly defaultPort: number;
  /** Aurora: a cluster with instances; its rds-db:connect id is the cluster resource id. */
  readonly isCluster: boolean;
  /** Parameter that makes the server refuse non-TLS connections. */
  readonly tlsParameter: { readonly name: string; readonly value: string };
  /** Absent: the CLI connects to it (existing or found by tags) but the Database module does not create it. */
  readonly create?: EngineCreateFacts;
}

const major = (version: string) => version.split(".")[0] ?? version;
const POSTGRES_TLS = { name: "rds.force_ssl", value: "1" } as const;
const MYSQL_TLS = { name: "require_secure_transport", value: "ON" } as const;

export const ENGINE_FACTS: Readonly<Record<DatabaseEngine, EngineFacts>> = {
  postgres: {
    protocol: "postgres",
    defaultPort: 5432,
    isCluster: false,
    tlsParameter: POSTGRES_TLS,
    create: {
      defaultVersion: "16",
      family: (v) => `postgres${major(v)}`,
      defaultInstanceClass: "db.t4g.micro",
      logExports: ["postgresql", "upgrade"],
    },
  },
  "aurora-postgresql": {
    protocol: "postgres",
    defaultPort: 5432,
    isCluster: true,
    tlsParameter: POSTGRES_TLS,
    create: {
      defaultVersion: "16.6",
      family: (v) => `aurora-postgresql${major(v)}`,
      defaultInstanceClass: "db.t4g.medium",
      logExports: ["postgresql"],
    },
  },
  mysql: {
    protocol: "mysql",
    defaultPort: 3306,
    isCluster: false,
    tlsParameter: MYSQL_TLS,
    create: {
      defaultVersion: "8.0",
      family: (v) => `mysql${v.split(".").slice(0, 2).join(".")}`,
      defaultInstanceClass: "db.t4g.micro",
      // The audit log needs an option group (MariaDB audit plugin); these three need nothing extra.
      logExports: ["error", "general", "slowquery"],
    },
  },
  "aurora-mysql": {
    protocol: "mysql",
    defaultPort: 3306,
    isCluster: true,
    tlsParameter: MYSQL_TLS,
    create: {
      // Aurora MySQL 3 (MySQL 8.0 compatible); the family drops the Aurora part of the version.
      defaultVersion: "8.0.mysql_aurora.3.08.0",
      family: (v) => `aurora-mysql${v.split(".").slice(0, 2).join(".")}`,
      defaultInstanceClass: "db.t4g.medium",
      // "audit" also needs server_audit_logging in the cluster parameter group; these need nothing extra.
      logExports: ["error", "general", "slowquery"],
    },
  },
};

/** Engines the Database module can create (the others are reached as existing databases only). */
export const CREATABLE_ENGINES: readonly DatabaseEngine[] = DATABASE_ENGINES.filter(
  (engine) => ENGINE_FACTS[engine].create !== undefined,
);

export function isDatabaseEngine(value: unknown): value is DatabaseEngine {
  return typeof value === "string" && (DATABASE_ENGINES as readonly string[]).includes(value);
}

/**
 * The engine for what RDS reports in DescribeDBInstances/Clusters `Engine`: MariaDB speaks the MySQL
 * protocol; undefined for engines dbtunnel does not reach (Oracle, SQL Server, ...).
 */
export function engineFromRds(rdsEngine: string | undefined): DatabaseEngine | undefined {
  if (rdsEngine === "mariadb") return "mysql";
  return isDatabaseEngine(rdsEngine) ? rdsEngine : undefined;
}

export function isMysqlEngine(engine: DatabaseEngine): boolean {
  return ENGINE_FACTS[engine].protocol === "mysql";
}
