/**
 * The SQL a platform team runs once, as the master user, to create an IAM database user: the one text the
 * README shows, the e2e suite runs and `sandbox/` checks. Least privilege, in two variants:
 * - read-only: connect, read every table of the schema (also tables created later by the master user);
 * - read-write: also write rows, use sequences and create tables in the schema (PostgreSQL 15+ no longer
 *   lets every user CREATE in `public`, so this grant is needed for DDL).
 * No superuser, no CREATEROLE, no CREATEDB, nothing on other databases. `rds_iam` (PostgreSQL) and
 * `AWSAuthenticationPlugin` (MySQL) make the user log in with IAM tokens only.
 */
import { dbNameProblem, dbUserProblem } from "./values.ts";

export type DatabaseAccess = "read-only" | "read-write";

export interface DatabaseUserSqlProps {
  /** The IAM database user, as listed in `database.iamUsers`. */
  readonly user: string;
  /** The database (`database.name`). */
  readonly database: string;
  readonly access: DatabaseAccess;
  /** PostgreSQL schema the grants cover. @default "public" */
  readonly schema?: string;
}

function checked(props: DatabaseUserSqlProps): { user: string; database: string; schema: string } {
  const problem =
    dbUserProblem(props.user) ??
    dbNameProblem(props.database) ??
    (props.schema === undefined ? undefined : dbUserProblem(props.schema));
  if (problem) throw new Error(`database user SQL: ${problem}`);
  return { user: props.user, database: props.database, schema: props.schema ?? "public" };
}

/** PostgreSQL (RDS and Aurora): run as the master user, connected to the database. */
export function postgresUserSql(props: DatabaseUserSqlProps): string {
  const { user, database, schema } = checked(props);
  const common = [
    `CREATE USER ${user} WITH LOGIN;`,
    `GRANT rds_iam TO ${user};`,
    `GRANT CONNECT ON DATABASE ${database} TO ${user};`,
  ];
  if (props.access === "read-only") {
    return [
      ...common,
      `GRANT USAGE ON SCHEMA ${schema} TO ${user};`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${user};`,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT ON TABLES TO ${user};`,
    ].join("\n");
  }
  return [
    ...common,
    `GRANT TEMPORARY ON DATABASE ${database} TO ${user};`,
    `GRANT USAGE, CREATE ON SCHEMA ${schema} TO ${user};`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${user};`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${user};`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${user};`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${user};`,
  ].join("\n");
}

/** MySQL (RDS and Aurora): run as the master user. */
export function mysqlUserSql(props: DatabaseUserSqlProps): string {
  const { user, database } = checked(props);
  const privileges =
    props.access === "read-only"
      ? "SELECT, SHOW VIEW"
      : "SELECT, SHOW VIEW, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES, CREATE TEMPORARY TABLES, LOCK TABLES";
  return [
    `CREATE USER '${user}'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' REQUIRE SSL;`,
    `GRANT ${privileges} ON \`${database}\`.* TO '${user}'@'%';`,
  ].join("\n");
}
