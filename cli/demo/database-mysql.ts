/**
 * The demo's database steps for a MySQL stack (the ecs-mysql variant), through the session the pipeline
 * opened: the master creates the IAM user the RDS way (AWSAuthenticationPlugin), then that user logs in
 * with an IAM token over TLS verified against the CA bundle and the endpoint name. MySQL clients have no
 * hostaddr: the client runs in a private mount namespace where the endpoint resolves to the tunnel
 * (cli/private-hosts.ts, Linux), with the options `dbtunnel connect` gives it (cli/mysql-client.ts).
 */
import { mysqlUserSql } from "../../contract/database-users.ts";
import type { ClientParams } from "../client-env.ts";
import { findMysqlClient, mysqlArgs } from "../mysql-client.ts";
import { inPrivateHosts, privateHostsAvailable, writePrivateHosts } from "../private-hosts.ts";
import { runSqlClient, type TlsDetails } from "./database.ts";

/** MySQL user names the stack config allows (checked before they reach SQL). */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

/** As the master user: the README's read-write IAM user (contract/database-users.ts). */
export async function createIamUserMysql(
  master: ClientParams,
  password: string,
  iamUser: string,
): Promise<string> {
  if (!PLAIN_NAME.test(iamUser)) throw new Error(`IAM user '${iamUser}' is not a plain MySQL identifier`);
  const database = master.database ?? "mysql";
  const rows = await mysql(
    master,
    password,
    `${mysqlUserSql({ user: iamUser, database, access: "read-write" })}
     SELECT plugin, authentication_string, CURRENT_USER() FROM mysql.user WHERE user = '${iamUser}';`,
  );
  const [plugin, as, by] = rows.at(-1) ?? [];
  if (plugin !== "AWSAuthenticationPlugin" || as !== "RDS")
    throw new Error(
      `${iamUser} is identified with '${plugin}' AS '${as}', expected AWSAuthenticationPlugin AS 'RDS'`,
    );
  return `${iamUser} IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS', read-write, created by ${by}`;
}

/** The IAM user logs in with the token, writes and reads a table, reports the TLS the server saw. */
export async function iamLoginMysql(params: ClientParams, token: string): Promise<TlsDetails> {
  const rows = await mysql(
    params,
    token,
    `SELECT CURRENT_USER(), VERSION();
     SHOW STATUS LIKE 'Ssl_version';
     SHOW STATUS LIKE 'Ssl_cipher';
     SHOW STATUS LIKE 'Ssl_cipher_list';
     DROP TABLE IF EXISTS notes;
     CREATE TABLE notes (id INT PRIMARY KEY, body TEXT NOT NULL);
     INSERT INTO notes VALUES (1, 'one'), (2, 'two'), (3, 'three');
     UPDATE notes SET body = 'TWO' WHERE id = 2;
     DELETE FROM notes WHERE id = 3;
     SELECT GROUP_CONCAT(CONCAT(id, '=', body) ORDER BY id) FROM notes;`,
  );
  const [current = "", serverVersion = ""] = rows[0] ?? [];
  const tlsVersion = rows[1]?.[1] ?? "";
  const cipher = rows[2]?.[1] ?? "";
  if (current !== `${params.user}@%`)
    throw new Error(`logged in as '${current}', expected '${params.user}@%'`);
  if (!tlsVersion.startsWith("TLS")) throw new Error("Ssl_version is empty: the login is not encrypted");
  const data = rows.at(-1)?.[0];
  if (data !== "1=one,2=TWO")
    throw new Error(`DDL/DML round trip returned '${data}', expected '1=one,2=TWO'`);
  return { user: params.user, ssl: true, tlsVersion, cipher, bits: "", serverVersion };
}

/** Runs SQL with the installed mysql/mariadb client in a private hosts namespace; rows as tab-separated fields. */
async function mysql(params: ClientParams, password: string, sql: string): Promise<string[][]> {
  const client = await findMysqlClient();
  if (!client)
    throw new Error(
      "no mysql or mariadb client on PATH: install one (Debian: apt-get install mariadb-client)",
    );
  if (!(await privateHostsAvailable()))
    throw new Error(
      "the MySQL demo runs the client in a private mount namespace (unshare, Linux with user namespaces), which is not available here",
    );
  const hosts = writePrivateHosts([params.endpoint]);
  try {
    const command = inPrivateHosts(
      [client.program, ...mysqlArgs(client, params), "--batch", "--skip-column-names"],
      hosts.path,
    );
    // The password (an IAM token, or the master's) goes in the environment, never on the command line.
    return await runSqlClient(command, { MYSQL_PWD: password }, sql, `${client.program} as ${params.user}`);
  } finally {
    hosts.remove();
  }
}
