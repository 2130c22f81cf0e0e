import { afterAll, beforeAll, expect, test } from "bun:test";
import { CreateDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SSMClient } from "@aws-sdk/client-ssm";
import { Signer } from "@aws-sdk/rds-signer";
import { type Sandbox, startSandbox } from "../sandbox/index.ts";
import { runTestInstance } from "../test-support/sandbox/test-gateway.ts";
import { openTunnel } from "../tunnel/index.ts";
import type { Tunnel, TunnelEvent } from "../tunnel/types.ts";

/**
 * The whole sandbox path with the real client: StartSession through the gateway, the agent emulator dials
 * the RDS endpoint, the mirror maps it to PostgreSQL, and psql does verify-full + an IAM token over it.
 */
let sandbox: Sandbox;
let endpoint: string;
let masterPassword: string;
let jumpHost: string;
const tunnels: Tunnel[] = [];

function clientConfig() {
  return {
    endpoint: sandbox.env.AWS_ENDPOINT_URL,
    region: sandbox.region,
    credentials: sandbox.credentials,
  };
}

async function tunnelTo(host: string, port = 5432): Promise<{ tunnel: Tunnel; events: TunnelEvent[] }> {
  const events: TunnelEvent[] = [];
  const tunnel = await openTunnel({
    target: jumpHost,
    host,
    port,
    ssm: new SSMClient(clientConfig()),
    onEvent: (event) => events.push(event),
  });
  tunnels.push(tunnel);
  return { tunnel, events };
}

async function psql(
  localPort: number,
  user: string,
  password: string,
  sql = "select current_user",
  host = endpoint,
) {
  const conninfo = `host=${host} hostaddr=127.0.0.1 port=${localPort} dbname=postgres user=${user} sslmode=verify-full sslrootcert=${sandbox.caBundlePath} connect_timeout=10`;
  const proc = Bun.spawn({
    cmd: ["psql", conninfo, "-XAtc", sql],
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PGPASSWORD: password },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  return { code, out: out.trim().split("\n").at(-1) ?? "", err: err.trim() };
}

beforeAll(async () => {
  sandbox = await startSandbox({ region: "us-west-2" });
  jumpHost = await runTestInstance(sandbox.env.AWS_ENDPOINT_URL, sandbox.region, sandbox.credentials);
  const created = await new RDSClient(clientConfig()).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: "tunneldb",
      Engine: "postgres",
      DBInstanceClass: "db.t3.micro",
      AllocatedStorage: 20,
      MasterUsername: "dbadmin",
      ManageMasterUserPassword: true,
      EnableIAMDatabaseAuthentication: true,
    }),
  );
  endpoint = created.DBInstance?.Endpoint?.Address ?? "";
  const secret = await new SecretsManagerClient(clientConfig()).send(
    new GetSecretValueCommand({ SecretId: created.DBInstance?.MasterUserSecret?.SecretArn ?? "" }),
  );
  masterPassword = (JSON.parse(secret.SecretString ?? "{}") as { password: string }).password;
}, 60_000);

afterAll(async () => {
  for (const tunnel of tunnels) await tunnel.close().catch(() => {});
  await sandbox?.stop();
});

test("psql reaches the mirrored RDS instance through the tunnel with verify-full and an IAM token", async () => {
  const { tunnel } = await tunnelTo(endpoint);
  const setup = await psql(
    tunnel.port,
    "dbadmin",
    masterPassword,
    "create user carol; grant rds_iam to carol; select 1",
  );
  expect(setup.err).toBe("");
  const token = await new Signer({
    hostname: endpoint,
    port: 5432,
    username: "carol",
    region: sandbox.region,
    credentials: sandbox.credentials,
  }).getAuthToken();
  const login = await psql(tunnel.port, "carol", token);
  expect(login.err).toBe("");
  expect(login.out).toBe("carol");
}, 60_000);

test("a destination that is no database in the account fails that connection, not the session", async () => {
  const { tunnel, events } = await tunnelTo("ghost.aaaaaaaaaa.us-west-2.rds.amazonaws.com");
  const result = await psql(tunnel.port, "carol", "irrelevant");
  expect(result.code).not.toBe(0);
  expect(events.some((e) => e.type === "connection-failed")).toBe(true);
}, 60_000);

test("each database is its own endpoint identity: a token signed for another instance logs in nowhere else", async () => {
  const created = await new RDSClient(clientConfig()).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: "otherdb",
      Engine: "postgres",
      DBInstanceClass: "db.t3.micro",
      AllocatedStorage: 20,
      MasterUsername: "dbadmin",
      ManageMasterUserPassword: true,
      EnableIAMDatabaseAuthentication: true,
    }),
  );
  const other = created.DBInstance?.Endpoint?.Address ?? "";
  const first = await tunnelTo(endpoint);
  const setup = await psql(
    first.tunnel.port,
    "dbadmin",
    masterPassword,
    "create user dora; grant rds_iam to dora; select 1",
  );
  expect(setup.err).toBe("");
  const { tunnel } = await tunnelTo(other);
  const tokenFor = (hostname: string) =>
    new Signer({
      hostname,
      port: 5432,
      username: "dora",
      region: sandbox.region,
      credentials: sandbox.credentials,
    }).getAuthToken();
  // Both instances live in the one sandbox PostgreSQL, yet a token for tunneldb does not open otherdb...
  const wrong = await psql(tunnel.port, "dora", await tokenFor(endpoint), "select current_user", other);
  expect(wrong.code).not.toBe(0);
  expect(wrong.err).toContain("authentication failed");
  // ...while otherdb's own token does, and tunneldb's token still opens tunneldb.
  const right = await psql(tunnel.port, "dora", await tokenFor(other), "select current_user", other);
  expect(right.err).toBe("");
  expect(right.out).toBe("dora");
  const home = await psql(first.tunnel.port, "dora", await tokenFor(endpoint));
  expect(home.out).toBe("dora");
}, 60_000);
