import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DATABASE_RULES } from "../modules/database.ts";
import { EC2_JUMP_HOST_RULES } from "../modules/jumphost-ec2.ts";
import { ConfigError, loadConfig, parseConfig } from "./config.ts";

const stack = () => ({
  name: "dbtunnel-dev",
  region: "us-east-1",
  network: { cidr: "10.40.0.0/16", availabilityZones: ["us-east-1a", "us-east-1b"] },
  database: { engine: "postgres", iamUsers: ["app_engineer"] },
});

/** Applies a mutation to a fresh valid config and returns the error message (or "ok"). */
function errorOf(
  mutate: (config: { stacks: Array<Record<string, unknown>>; [k: string]: unknown }) => void,
): string {
  const config = { stacks: [stack() as Record<string, unknown>] };
  mutate(config);
  try {
    parseConfig(config);
    return "ok";
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain("\n");
    return message;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the tests poke arbitrary (also wrongly typed) values into raw config JSON
const s0 = (c: { stacks: Array<Record<string, unknown>> }) => c.stacks[0] as Record<string, any>;

describe("parseConfig", () => {
  test("the minimal config gets the documented defaults", () => {
    const config = parseConfig({ stacks: [stack()] });
    const s = config.stacks[0];
    expect(s?.profile).toBe("development");
    expect(s?.jumpHost).toEqual({ kind: "ec2", instanceType: "t3.micro", idleStopMinutes: 30 });
    expect(s?.database).toMatchObject({
      mode: "create",
      name: "app",
      masterUsername: "dbadmin",
      backupRetentionDays: 7,
      deletionProtection: true,
    });
    expect(s?.network).toMatchObject({
      mode: "create",
      allowInternetEgress: false,
      flowLogRetentionDays: 365,
    });
    expect(s?.sessionPreferences).toEqual({
      idleSessionTimeoutMinutes: 20,
      maxSessionDurationMinutes: 480,
      logRetentionDays: 365,
      manageDocument: true,
      adoptExistingDocument: false,
    });
    expect(config.policy.suppressions).toEqual([]);
  });

  test("the repository's dbtunnel.config.json is valid", () => {
    const config = loadConfig(join(import.meta.dir, "..", "dbtunnel.config.json"));
    expect(config.stacks.length).toBeGreaterThanOrEqual(1);
  });

  test("a bad CIDR names the field", () => {
    expect(errorOf((c) => (s0(c).network.cidr = "10.40.0.0/33"))).toBe(
      'stacks[0].network.cidr: "10.40.0.0/33" has a prefix above /32; write a network address such as 10.40.0.0/16',
    );
    expect(errorOf((c) => (s0(c).network.cidr = "10.40.1.0/16"))).toMatch(
      /^stacks\[0\]\.network\.cidr: .*did you mean 10\.40\.0\.0\/16/,
    );
    expect(errorOf((c) => (s0(c).network.cidr = "10.0.0.0/8"))).toBe(
      'stacks[0].network.cidr: "10.0.0.0/8" is a /8; use a prefix from /16 to /24',
    );
  });

  test("fewer than two AZs, duplicates, or zones of another region", () => {
    expect(errorOf((c) => (s0(c).network.availabilityZones = ["us-east-1a"]))).toBe(
      "stacks[0].network.availabilityZones: has 1 item(s); list at least 2",
    );
    expect(errorOf((c) => (s0(c).network.availabilityZones = ["us-east-1a", "us-east-1a"]))).toMatch(
      /lists "us-east-1a" twice/,
    );
    expect(errorOf((c) => (s0(c).network.availabilityZones = ["us-east-1a", "eu-west-1b"]))).toMatch(
      /^stacks\[0\]\.network\.availabilityZones\[1\]: "eu-west-1b" is not valid; use a zone of us-east-1/,
    );
  });

  test("an unknown engine", () => {
    expect(errorOf((c) => (s0(c).database.engine = "oracle"))).toBe(
      'stacks[0].database.engine: is "oracle"; use one of: postgres, aurora-postgresql, mysql, aurora-mysql',
    );
  });

  test("a port out of range", () => {
    expect(errorOf((c) => (s0(c).database.port = 70000))).toBe(
      "stacks[0].database.port: is 70000; use a whole number from 1150 to 65535",
    );
    expect(errorOf((c) => (s0(c).database.port = "5432"))).toMatch(/database\.port: is "5432"/);
  });

  test("an unknown field, at any depth", () => {
    expect(errorOf((c) => (s0(c).colour = "blue"))).toMatch(
      /^stacks\[0\]\.colour: is not a known field; remove it or use one of: name, region/,
    );
    expect(errorOf((c) => (s0(c).database.deletionProtecton = false))).toMatch(
      /^stacks\[0\]\.database\.deletionProtecton: is not a known field/,
    );
    expect(errorOf((c) => (c.extra = 1))).toMatch(/^config\.extra: is not a known field/);
  });

  test("other field checks", () => {
    expect(errorOf((c) => (s0(c).name = "Dev_Stack"))).toMatch(
      /^stacks\[0\]\.name: "Dev_Stack" is not valid/,
    );
    expect(errorOf((c) => (s0(c).region = "mars"))).toMatch(/^stacks\[0\]\.region:/);
    expect(errorOf((c) => (s0(c).database.iamUsers = []))).toMatch(/database\.iamUsers: has 0 item\(s\)/);
    expect(errorOf((c) => (s0(c).database.iamUsers = ["dbadmin"]))).toMatch(
      /includes the master user "dbadmin"/,
    );
    expect(errorOf((c) => (s0(c).jumpHost = { kind: "ecs" }))).toMatch(
      /^stacks\[0\]\.jumpHost\.containerImage: is required for kind "ecs"/,
    );
    expect(errorOf((c) => (s0(c).jumpHost = { kind: "ec2", containerImage: "x" }))).toMatch(
      /jumpHost\.containerImage: applies only to kind "ecs"/,
    );
    expect(errorOf((c) => (s0(c).sessionPreferences = { idleSessionTimeoutMinutes: 90 }))).toMatch(
      /idleSessionTimeoutMinutes: is 90; use a whole number from 1 to 60/,
    );
    expect(errorOf((c) => (s0(c).tags = { "dbtunnel:stack": "x" }))).toMatch(/reserved dbtunnel: prefix/);
    expect(errorOf((c) => c.stacks.push({ ...stack() }))).toMatch(
      /^stacks\[\]\.name: lists "dbtunnel-dev" twice/,
    );
    expect(errorOf((c) => (c.stacks = []))).toBe("stacks: has 0 item(s); list at least 1");
  });

  test("suppressions need a reason", () => {
    expect(errorOf((c) => (c.policy = { suppressions: [{ ruleId: "CKV_AWS_18" }] }))).toMatch(
      /^policy\.suppressions\[0\]\.reason: is undefined/,
    );
    expect(errorOf((c) => (c.policy = { suppressions: [{ ruleId: "CKV_AWS_18", reason: "   " }] }))).toMatch(
      /reason: " {3}" is not valid; say why/,
    );
    expect(errorOf((c) => (c.policy = { suppressions: [{ ruleId: "CKV_AWS_18", reason: "noise" }] }))).toBe(
      "ok",
    );
  });

  test("bring your own VPC and database", () => {
    const config = parseConfig({
      stacks: [
        {
          ...stack(),
          network: {
            existingVpc: {
              vpcId: "vpc-0123abcd",
              subnetIds: ["subnet-0123abcd", "subnet-4567abcd"],
              routeTableIds: ["rtb-0123abcd"],
            },
          },
          database: {
            engine: "postgres",
            iamUsers: ["a"],
            existing: { identifier: "legacy", securityGroupId: "sg-0123abcd" },
          },
        },
      ],
    });
    expect(config.stacks[0]?.network.mode).toBe("existing");
    expect(config.stacks[0]?.database).toMatchObject({ mode: "existing", identifier: "legacy" });
    expect(
      errorOf(
        (c) =>
          (s0(c).network = {
            cidr: "10.0.0.0/16",
            existingVpc: { vpcId: "vpc-0123abcd", subnetIds: [], routeTableIds: [] },
          }),
      ),
    ).toMatch(/^stacks\[0\]\.network\.cidr: cannot be combined with existingVpc/);
    expect(
      errorOf(
        (c) =>
          (s0(c).database = {
            iamUsers: ["a"],
            port: 5432,
            existing: { identifier: "x", securityGroupId: "sg-0123abcd" },
          }),
      ),
    ).toMatch(/^stacks\[0\]\.database\.port: cannot be combined with existing/);
  });
});

describe("loadConfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "dbtunnel-config-"));
  test("missing file and bad JSON are one-line ConfigErrors", () => {
    expect(() => loadConfig(join(dir, "absent.json"))).toThrow(/absent\.json: cannot be read; create it/);
    writeFileSync(join(dir, "bad.json"), "{ nope");
    expect(() => loadConfig(join(dir, "bad.json"))).toThrow(/bad\.json: is not valid JSON/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("config and modules apply the same rules", () => {
  const database = (extra: Record<string, unknown>) => errorOf((c) => Object.assign(s0(c).database, extra));

  test("RDS identifiers: what the Database module accepts, the config accepts, and the reverse", () => {
    for (const identifier of ["a", "dev-db", `a${"b".repeat(62)}`]) {
      expect(DATABASE_RULES.identifier.pattern.test(identifier)).toBe(true);
      expect(database({ identifier })).toBe("ok");
    }
    for (const identifier of ["a-", "a--b", "1db", "Dev", `a${"b".repeat(63)}`]) {
      expect(DATABASE_RULES.identifier.pattern.test(identifier)).toBe(false);
      expect(database({ identifier })).toMatch(/^stacks\[0\]\.database\.identifier: /);
    }
  });

  test("defaults come from the modules", () => {
    const s = parseConfig({ stacks: [stack()] }).stacks[0];
    expect(s?.database).toMatchObject({
      name: DATABASE_RULES.defaultDatabaseName,
      masterUsername: DATABASE_RULES.defaultMasterUsername,
      backupRetentionDays: DATABASE_RULES.backupRetentionDays.default,
    });
    expect(s?.jumpHost).toMatchObject({
      instanceType: EC2_JUMP_HOST_RULES.defaultInstanceType,
      idleStopMinutes: EC2_JUMP_HOST_RULES.idleStopMinutes.default,
    });
  });
});
