import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { CreateDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { generateSandboxCredentials } from "./credentials.ts";
import { type Sandbox, startSandbox } from "./index.ts";
import { isListening } from "./ports.ts";

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ region: "eu-north-1" });
}, 60_000);
afterAll(() => sandbox?.stop());

/** SDK client config taken from the exported env only, the way a client process would see it. */
function fromEnv(env: Sandbox["env"]) {
  return {
    endpoint: env.AWS_ENDPOINT_URL,
    region: env.AWS_REGION,
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      sessionToken: env.AWS_SESSION_TOKEN,
    },
  };
}

test("the exported env names the gateway, realistic credentials and the CA bundle", () => {
  const { env } = sandbox;
  expect(env.AWS_ENDPOINT_URL).toBe(sandbox.gateway.url);
  expect(env.AWS_ENDPOINT_URL).not.toBe(sandbox.motoUrl);
  expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA[A-Z2-7]{16}$/);
  expect(env.AWS_SESSION_TOKEN.length).toBeGreaterThanOrEqual(700);
  expect(env.AWS_REGION).toBe("eu-north-1");
  expect(env.AWS_DEFAULT_REGION).toBe("eu-north-1");
  expect(env.AWS_EC2_METADATA_DISABLED).toBe("true");
  expect(existsSync(env.DBTUNNEL_CA_BUNDLE)).toBe(true);
});

test("AWS calls through the gateway reach moto with the sandbox credentials, other keys are refused", async () => {
  const identity = await new STSClient(fromEnv(sandbox.env)).send(new GetCallerIdentityCommand({}));
  expect(identity.Account).toBe("123456789012");
  const stranger = { ...fromEnv(sandbox.env), credentials: generateSandboxCredentials() };
  await expect(new STSClient(stranger).send(new GetCallerIdentityCommand({}))).rejects.toThrow();
}, 30_000);

test("a database created through the gateway resolves to the local PostgreSQL", async () => {
  const created = await new RDSClient(fromEnv(sandbox.env)).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: "viagateway",
      Engine: "postgres",
      DBInstanceClass: "db.t3.micro",
      AllocatedStorage: 20,
      MasterUsername: "dbadmin",
      ManageMasterUserPassword: true,
      EnableIAMDatabaseAuthentication: true,
    }),
  );
  const endpoint = created.DBInstance?.Endpoint?.Address ?? "";
  expect(await sandbox.mirror.resolveDestination(endpoint, 5432)).toEqual({
    host: "127.0.0.1",
    port: sandbox.postgres.port,
    localAddress: "127.0.1.1",
  });
  // moto loads its RDS backend on first use: seconds on a loaded machine.
}, 30_000);

test("stop() closes the gateway and removes the directory", async () => {
  const ports = [sandbox.gateway.port, sandbox.postgres.port];
  await sandbox.stop();
  for (const port of ports) expect(await isListening(port)).toBe(false);
  expect(existsSync(sandbox.dir)).toBe(false);
}, 30_000);
