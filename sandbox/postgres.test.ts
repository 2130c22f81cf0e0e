import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateDBClusterCommand, CreateDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Signer } from "@aws-sdk/rds-signer";
import { createSandboxCa } from "./ca.ts";
import { type SandboxCore, startSandboxCore } from "./core.ts";

/**
 * The sandbox database end to end without the tunnel: a DB instance created in moto with the SDK is
 * mirrored into the real PostgreSQL, and real psql connects with verify-full and a real rds-signer token.
 */
const region = "eu-west-1";
let core: SandboxCore;
let endpoint: string;
let masterPassword: string;
const logLines: string[] = [];
let otherCaDir: string;

async function psql(opts: {
  host?: string;
  user: string;
  password: string;
  caPath?: string;
  database?: string;
  sql?: string;
}): Promise<{ code: number; out: string; err: string }> {
  const conninfo = [
    `host=${opts.host ?? endpoint}`,
    "hostaddr=127.0.0.1",
    `port=${core.postgres.port}`,
    `dbname=${opts.database ?? "app"}`,
    `user=${opts.user}`,
    "sslmode=verify-full",
    `sslrootcert=${opts.caPath ?? core.ca.caCertPath}`,
    "connect_timeout=5",
  ].join(" ");
  const proc = Bun.spawn({
    cmd: ["psql", conninfo, "-XAtc", opts.sql ?? "select current_user"],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGPASSWORD: opts.password },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { code, out: out.trim(), err: err.trim() };
}

function token(user: string, host = endpoint, port = 5432): Promise<string> {
  return new Signer({
    hostname: host,
    port,
    username: user,
    region,
    credentials: core.credentials,
  }).getAuthToken();
}

beforeAll(async () => {
  core = await startSandboxCore({ region, log: (line) => logLines.push(line) });
  const config = { endpoint: core.moto.url, region, credentials: core.credentials };
  const created = await new RDSClient(config).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: "appdb",
      Engine: "postgres",
      EngineVersion: "15.7",
      DBInstanceClass: "db.t3.micro",
      AllocatedStorage: 20,
      DBName: "app",
      MasterUsername: "dbadmin",
      ManageMasterUserPassword: true,
      EnableIAMDatabaseAuthentication: true,
    }),
  );
  endpoint = created.DBInstance?.Endpoint?.Address ?? "";
  const secretArn = created.DBInstance?.MasterUserSecret?.SecretArn ?? "";
  expect(endpoint).toBe(`appdb.aaaaaaaaaa.${region}.rds.amazonaws.com`);
  expect(secretArn).toContain("rds!db-");
  const secret = await new SecretsManagerClient(config).send(
    new GetSecretValueCommand({ SecretId: secretArn }),
  );
  // moto's managed secret always says username "admin" (README: deviations); the role is MasterUsername.
  const parsed = JSON.parse(secret.SecretString ?? "{}") as { password: string };
  masterPassword = parsed.password;
  otherCaDir = mkdtempSync(join(tmpdir(), "dbtunnel-other-ca-"));
}, 60_000);

afterAll(async () => {
  await core?.stop();
  if (otherCaDir) rmSync(otherCaDir, { recursive: true, force: true });
});

describe("sandbox PostgreSQL mirroring an RDS instance in moto", () => {
  test("unknown destinations are refused like a name the VPC cannot resolve", async () => {
    await expect(
      core.mirror.resolveDestination("nope.aaaaaaaaaa.eu-west-1.rds.amazonaws.com", 5432),
    ).rejects.toThrow("no database in this account answers at");
    await expect(core.mirror.resolveDestination(endpoint, 3306)).rejects.toThrow();
  }, 30_000);

  test("resolving the endpoint creates the master role and database; the master logs in with the secret", async () => {
    const target = await core.mirror.resolveDestination(endpoint, 5432);
    // Dialled from the database's own loopback address: the IAM verifier tells databases apart by it.
    expect(target).toEqual({ host: "127.0.0.1", port: core.postgres.port, localAddress: "127.0.1.1" });
    // Idempotent: a second dial must not fail on "role already exists".
    await core.mirror.resolveDestination(endpoint, 5432);
    const result = await psql({
      user: "dbadmin",
      password: masterPassword,
      sql: "create user alice; grant rds_iam to alice; create user bob; grant rds_iam to bob; select current_user",
    });
    expect(result.err).toBe("");
    expect(result.out.split("\n").at(-1)).toBe("dbadmin");
  }, 30_000);

  test("an IAM user connects with verify-full and a fresh rds-signer token", async () => {
    const result = await psql({ user: "alice", password: await token("alice") });
    expect(result.err).toBe("");
    expect(result.out).toBe("alice");
  }, 30_000);

  test("a CA that did not sign the server certificate is refused", async () => {
    const other = await createSandboxCa({ dir: otherCaDir, region });
    const result = await psql({ user: "alice", password: await token("alice"), caPath: other.caCertPath });
    expect(result.code).not.toBe(0);
    expect(result.err).toContain("certificate verify failed");
  }, 30_000);

  test("a host name the certificate does not carry is refused", async () => {
    const result = await psql({ host: "localhost", user: "alice", password: await token("alice") });
    expect(result.code).not.toBe(0);
    expect(result.err).toContain("does not match host name");
  }, 30_000);

  test("a token for another user, an expired token and a token for the local port get an auth error", async () => {
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
      ["local port", () => token("alice", "localhost", core.postgres.port), "not the endpoint of a database"],
    ];
    for (const [name, make, reason] of cases) {
      const password = await make();
      logLines.length = 0;
      const result = await psql({ user: "alice", password });
      expect(result.code, name).not.toBe(0);
      expect(result.err, name).toContain('LDAP authentication failed for user "alice"');
      expect(logLines.join("\n"), name).toContain(reason);
      expect(logLines.join("\n"), name).not.toContain(password.slice(-64));
    }
  }, 30_000);

  test("no plain-text connections: the server answers only TLS", async () => {
    const proc = Bun.spawn({
      cmd: [
        "psql",
        `host=127.0.0.1 port=${core.postgres.port} dbname=app user=dbadmin sslmode=disable connect_timeout=5`,
        "-XAtc",
        "select 1",
      ],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGPASSWORD: masterPassword },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).not.toBe(0);
    expect(err).toContain("no encryption");
  }, 30_000);

  test("an Aurora cluster endpoint resolves too, with a certificate valid for the cluster name", async () => {
    const config = { endpoint: core.moto.url, region, credentials: core.credentials };
    const created = await new RDSClient(config).send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: "auroradb",
        Engine: "aurora-postgresql",
        DatabaseName: "reports",
        MasterUsername: "auroraadmin",
        ManageMasterUserPassword: true,
        EnableIAMDatabaseAuthentication: true,
      }),
    );
    const clusterEndpoint = created.DBCluster?.Endpoint ?? "";
    // moto gives each cluster a random label: the mirror re-issues the certificate to cover it.
    expect(clusterEndpoint).toMatch(
      new RegExp(`^auroradb\\.cluster-[a-z0-9]+\\.${region}\\.rds\\.amazonaws\\.com$`),
    );
    const secret = await new SecretsManagerClient(config).send(
      new GetSecretValueCommand({ SecretId: created.DBCluster?.MasterUserSecret?.SecretArn ?? "" }),
    );
    const password = (JSON.parse(secret.SecretString ?? "{}") as { password: string }).password;
    await core.mirror.resolveDestination(clusterEndpoint, created.DBCluster?.Port ?? 5432);
    const result = await psql({ host: clusterEndpoint, user: "auroraadmin", password, database: "reports" });
    expect(result.err).toBe("");
    expect(result.out).toBe("auroraadmin");
  }, 30_000);
});
