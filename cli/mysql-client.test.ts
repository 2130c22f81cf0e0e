import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { findMysqlClient, mysqlArgs, mysqlExecEnv, mysqlOptionFile } from "./mysql-client.ts";

const params = {
  endpoint: "shop.abc.eu-west-1.rds.amazonaws.com",
  localPort: 40001,
  user: "app_ro",
  database: "shop",
  caBundle: "/tmp/ca.pem",
};

describe("MySQL client options", () => {
  test("Oracle's client: VERIFY_IDENTITY and the cleartext plugin", () => {
    expect(mysqlArgs({ program: "mysql", flavor: "mysql" }, params)).toEqual([
      `--host=${params.endpoint}`,
      "--port=40001",
      "--user=app_ro",
      "--ssl-ca=/tmp/ca.pem",
      "--ssl-mode=VERIFY_IDENTITY",
      "--enable-cleartext-plugin",
      "shop",
    ]);
  });

  test("MariaDB's client: --ssl-verify-server-cert (its cleartext plugin needs no switch)", () => {
    expect(mysqlArgs({ program: "mariadb", flavor: "mariadb" }, params)).toEqual([
      `--host=${params.endpoint}`,
      "--port=40001",
      "--user=app_ro",
      "--ssl-ca=/tmp/ca.pem",
      "--ssl-verify-server-cert",
      "shop",
    ]);
  });

  test("an option file for an unknown client carries both flavours' options as loose-, never the password", () => {
    const file = mysqlOptionFile(undefined, params);
    expect(file).toContain("[client]\nhost=shop.abc.eu-west-1.rds.amazonaws.com\nport=40001\nuser=app_ro\n");
    expect(file).toContain(
      "loose-ssl-verify-server-cert\nloose-ssl-mode=VERIFY_IDENTITY\nloose-enable-cleartext-plugin\n",
    );
    expect(file).toEndWith("[mysql]\ndatabase=shop\n");
    expect(file).not.toMatch(/^password/m);
  });

  test("the --exec option file is private to the user and removed afterwards", () => {
    const exec = mysqlExecEnv("mariadb", params, "TOKEN");
    const cnf = exec.env.DBTUNNEL_MYSQL_CNF ?? "";
    expect(statSync(cnf).mode & 0o777).toBe(0o600);
    expect(readFileSync(cnf, "utf8")).not.toContain("TOKEN");
    expect(exec.env.MYSQL_PWD).toBe("TOKEN");
    expect(exec.env.MYSQL_HOME).toBe(cnf.slice(0, -"/my.cnf".length));
    exec.remove();
    exec.remove();
    expect(existsSync(cnf)).toBe(false);
  });

  test("finds the installed client and tells MariaDB's from Oracle's", async () => {
    expect(await findMysqlClient("/nonexistent")).toBeUndefined();
    const found = await findMysqlClient();
    // The CI machine has Debian's MariaDB client, which installs `mysql` too.
    expect(found).toEqual({ program: "mysql", flavor: "mariadb" });
  });
});
