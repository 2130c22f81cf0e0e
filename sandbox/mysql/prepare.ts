import type { MotoDatabase } from "../rds-mirror.ts";
import type { SandboxMariadb } from "./server.ts";

/** RDS MySQL master user names: a letter, then letters, digits or underscores, at most 32 (RDS limits 16). */
const MASTER_USER = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
/** RDS MySQL DBName: a letter, then letters, digits or underscores, at most 64. */
const DB_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** A MariaDB string literal (the server's default sql_mode treats backslash as an escape). */
export function mysqlString(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'").replaceAll("\0", "\\0")}'`;
}

/**
 * What RDS creates with a MySQL instance, created once in the sandbox MariaDB: the master user
 * (`'<MasterUsername>'@'%'`, password from the instance's Secrets Manager secret, every privilege WITH GRANT
 * OPTION so it can create IAM users and grant them) and the database `DBName`. Names come from moto and are
 * checked against RDS's own rules before they reach SQL.
 */
export async function prepareMysqlDatabase(
  server: SandboxMariadb,
  db: MotoDatabase,
  password: string | undefined,
  log: (line: string) => void,
): Promise<void> {
  const master = db.masterUsername;
  if (master === undefined) return;
  if (!MASTER_USER.test(master)) {
    throw new Error(
      `${db.identifier}: MasterUsername ${JSON.stringify(master)} is not a valid MySQL master user`,
    );
  }
  if (db.dbName !== undefined && !DB_NAME.test(db.dbName)) {
    throw new Error(
      `${db.identifier}: DBName ${JSON.stringify(db.dbName)} is not a valid MySQL database name`,
    );
  }
  const account = `${mysqlString(master)}@'%'`;
  const statements = [`CREATE USER IF NOT EXISTS ${account}`];
  if (password) {
    statements.push(`ALTER USER ${account} IDENTIFIED BY ${mysqlString(password)}`);
  } else {
    log(
      `dbtunnel sandbox: ${db.identifier} has no managed master secret (ManageMasterUserPassword=false); moto does not return the password, so the MySQL master user ${master} has none and cannot log in`,
    );
    statements.push(`ALTER USER ${account} ACCOUNT LOCK`);
  }
  statements.push(`GRANT ALL PRIVILEGES ON *.* TO ${account} WITH GRANT OPTION`);
  if (db.dbName) statements.push(`CREATE DATABASE IF NOT EXISTS \`${db.dbName}\``);
  await server.sql(`${statements.join(";\n")};\n`);
}
