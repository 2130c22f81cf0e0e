import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Signer } from "@aws-sdk/rds-signer";
import { runMysql } from "../../test-support/sandbox/mysql-client.ts";
import { createSandboxCa } from "../ca.ts";
import { type SandboxCore, startSandboxCore } from "../core.ts";

/**
 * The sandbox MariaDB playing RDS MySQL, without the tunnel: an instance created in moto is mirrored into
 * MariaDB, the master logs in with the secret's password, IAM users are created with RDS's own statement
 * and log in only with a real rds-signer token over TLS with hostname verification (the real client).
 */
const region = "eu-west-1";
let core: SandboxCore;
let endpoint: string;
let pgEndpoint: string;
let port: number;
let masterPassword: string;
const logLines: string[] = [];
let otherCaDir: string;

const token = (user: string, host = endpoint, tokenPort = 3306) =>
  new Signer({
    hostname: host,
    port: tokenPort,
    username: user,
    region,
    credentials: core.credentials,
  }).getAuthToken();

const mysql = (
  user: string,
  password: string,
  sql: string,
  more: Partial<Parameters<typeof runMysql>[0]> = {},
) =>
  runMysql({
    host: endpoint,
    port,
    user,
    password,
    caPath: core.ca.caCertPath,
    database: "app",
    sql,
    ...more,
  });

beforeAll(async () => {
  core = await startSandboxCore({ region, log: (line) => logLines.push(line) });
  const config = { endpoint: core.moto.url, region, credentials: core.credentials };
  const rds = new RDSClient(config);
  const created = await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: "shop",
      Engine: "mysql",
      EngineVersion: "8.0.40",
      DBInstanceClass: "db.t4g.micro",
      AllocatedStorage: 20,
      DBName: "app",
      MasterUsername: "dbadmin",
      ManageMasterUserPassword: true,
      EnableIAMDatabaseAuthentication: true,
    }),
  );
  endpoint = created.DBInstance?.Endpoint?.Address ?? "";
  expect(endpoint).toBe(`shop.aaaaaaaaaa.${region}.rds.amazonaws.com`);
  expect(created.DBInstance?.Endpoint?.Port).toBe(3306);
  const pg = await rds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: "ledger",
      Engine: "postgres",
      DBInstanceClass: "db.t4g.micro",
      AllocatedStorage: 20,
      MasterUsername: "pgadmin",
      ManageMasterUserPassword: true,
    }),
  );
  pgEndpoint = pg.DBInstance?.Endpoint?.Address ?? "";
  const secret = await new SecretsManagerClient(config).send(
    new GetSecretValueCommand({ SecretId: created.DBInstance?.MasterUserSecret?.SecretArn ?? "" }),
  );
  masterPassword = (JSON.parse(secret.SecretString ?? "{}") as { password: string }).password;
  otherCaDir = mkdtempSync(join(tmpdir(), "dbtunnel-other-ca-"));
}, 90_000);

afterAll(async () => {
  await core?.stop();
  if (otherCaDir) rmSync(otherCaDir, { recursive: true, force: true });
});

describe("sandbox MariaDB playing an RDS MySQL instance in moto", () => {
  test("a MySQL endpoint resolves to the MariaDB (started on first use); the master logs in with the secret and creates IAM users with RDS's statement", async () => {
    const target = await core.mirror.resolveDestination(endpoint, 3306);
    const server = await core.mysql();
    port = server.port;
    // Dialled from the database's own loopback address (its identity for the token check).
    expect(target).toEqual({
      host: "127.0.0.1",
      port,
      localAddress: expect.stringMatching(/^127\.0\.1\.\d+$/),
    });
    expect(port).not.toBe(core.postgres.port);
    await core.mirror.resolveDestination(endpoint, 3306); // idempotent
    await expect(core.mirror.resolveDestination(endpoint, 5432)).rejects.toThrow("no database");
    const result = await mysql(
      "dbadmin",
      masterPassword,
      [
        "CREATE USER 'alice'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
        "CREATE USER 'bob'@'%' IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS'",
        "GRANT ALL ON app.* TO 'alice'@'%'",
        "SELECT CURRENT_USER()",
      ].join(";"),
    );
    expect(result.err).toBe("");
    expect(result.out).toBe("dbadmin@%");
  }, 60_000);

  test("an IAM user logs in with a token longer than 1000 characters, over TLS, with the name verified", async () => {
    const password = await token("alice");
    expect(password.length).toBeGreaterThan(1000);
    const result = await mysql(
      "alice",
      password,
      "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'x'); SELECT CURRENT_USER(), v FROM t; SHOW STATUS LIKE 'Ssl_version'",
    );
    expect(result.err).toBe("");
    expect(result.out.split("\n")).toEqual([
      "alice@%\tx",
      expect.stringMatching(/^Ssl_version\tTLSv1\.[23]$/),
    ]);
  }, 30_000);

  test("refused with the server's access-denied error: another user's token, expired, tampered, wrong host, a PostgreSQL endpoint's token, an IAM user's password", async () => {
    const good = await token("alice");
    const cases: Array<[string, () => Promise<string>, string]> = [
      ["other user", () => token("bob"), "DBUser"],
      [
        "expired",
        async () => {
          setSystemTime(new Date(Date.now() - 16 * 60_000));
          try {
            return await token("alice");
          } finally {
            setSystemTime();
          }
        },
        "expired",
      ],
      [
        "tampered",
        async () =>
          good.replace(/X-Amz-Signature=([0-9a-f])/, (_m, c) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`),
        "signature",
      ],
      ["wrong host", () => token("alice", "localhost", port), "not the endpoint of a database"],
      ["postgres endpoint", () => token("alice", pgEndpoint, 5432), "not the endpoint of a database"],
      ["a password", async () => "correct horse battery staple", "not an RDS IAM token"],
    ];
    for (const [name, make, reason] of cases) {
      const password = await make();
      logLines.length = 0;
      const result = await mysql("alice", password, "SELECT 1");
      expect(result.code, name).not.toBe(0);
      expect(result.err, name).toContain(
        "ERROR 1045 (28000): Access denied for user 'alice'@'127.0.0.1' (using password: YES)",
      );
      expect(logLines.join("\n"), name).toContain(reason);
      expect(logLines.join("\n"), name).not.toContain(password.slice(-64));
    }
  }, 60_000);

  test("through the tunnel a login is bound to its database: a token for another MySQL instance is refused", async () => {
    const config = { endpoint: core.moto.url, region, credentials: core.credentials };
    const other = await new RDSClient(config).send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: "warehouse",
        Engine: "mysql",
        DBInstanceClass: "db.t4g.micro",
        AllocatedStorage: 20,
        MasterUsername: "whadmin",
        ManageMasterUserPassword: true,
      }),
    );
    const otherEndpoint = other.DBInstance?.Endpoint?.Address ?? "";
    await core.mirror.resolveDestination(otherEndpoint, 3306);
    // What the agent emulator does: dial shop's server from shop's own loopback address.
    const dial = await core.mirror.resolveDestination(endpoint, 3306);
    expect(dial.localAddress).toMatch(/^127\.0\.1\.\d+$/);
    const relay = createServer((client) => {
      const upstream = connect({ host: dial.host, port: dial.port, localAddress: dial.localAddress });
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close).on("close", close);
      upstream.on("error", close).on("close", close);
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const relayPort = (relay.address() as AddressInfo).port;
    try {
      const own = await mysql("alice", await token("alice"), "SELECT CURRENT_USER()", { port: relayPort });
      expect(own.err).toBe("");
      expect(own.out).toBe("alice@%");
      logLines.length = 0;
      const foreign = await mysql("alice", await token("alice", otherEndpoint), "SELECT 1", {
        port: relayPort,
      });
      expect(foreign.code).not.toBe(0);
      expect(foreign.err).toContain("Access denied for user 'alice'");
      expect(logLines.join("\n")).toContain("not the endpoint of a database");
    } finally {
      relay.close();
    }
  }, 60_000);

  test("TLS only, against the right CA and name; the master cannot use a token", async () => {
    const plain = await mysql("dbadmin", masterPassword, "SELECT 1", {
      extraArgs: ["--skip-ssl"],
      verifyServerCert: false,
    });
    expect(plain.code).not.toBe(0);
    expect(plain.err).toContain("Access denied");
    const other = await createSandboxCa({ dir: otherCaDir, region });
    const wrongCa = await mysql("alice", await token("alice"), "SELECT 1", { caPath: other.caCertPath });
    expect(wrongCa.code).not.toBe(0);
    expect(wrongCa.err).toContain("TLS/SSL error");
    const wrongName = await mysql("alice", await token("alice"), "SELECT 1", { host: "localhost" });
    expect(wrongName.code).not.toBe(0);
    expect(wrongName.err).toContain("TLS/SSL error");
    const masterToken = await mysql("dbadmin", await token("dbadmin"), "SELECT 1");
    expect(masterToken.code).not.toBe(0);
    expect(masterToken.err).toContain("Access denied for user 'dbadmin'");
  }, 60_000);
});
