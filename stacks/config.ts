/**
 * dbtunnel.config.json: the validated description of every environment (one CDKTF stack each).
 *
 * ```json
 * {
 *   "stacks": [{
 *     "name": "dbtunnel-dev", "region": "us-east-1", "profile": "development",
 *     "network": { "cidr": "10.40.0.0/16", "availabilityZones": ["us-east-1a", "us-east-1b"] },
 *     "jumpHost": { "kind": "ec2", "idleStopMinutes": 30 },
 *     "database": { "engine": "postgres", "iamUsers": ["app_engineer"] },
 *     "sessionPreferences": { "idleSessionTimeoutMinutes": 20 },
 *     "access": { "role": { "trustedPrincipalArns": ["arn:aws:iam::123456789012:root"] } }
 *   }],
 *   "policy": { "suppressions": [{ "ruleId": "CKV_AWS_157", "reason": "dev stack, single AZ is fine" }] }
 * }
 * ```
 * Bring your own VPC: `"network": { "existingVpc": { "vpcId", "subnetIds", "routeTableIds" } }`.
 * Bring your own database: `"database": { "engine", "existing": { "identifier", "securityGroupId" }, "iamUsers" }`.
 */
import { readFileSync } from "node:fs";
import { DATABASE_ENGINES, type DatabaseEngine } from "../modules/database-engine.ts";
import type { RuleSuppression } from "../policy/types.ts";
import {
  boolean,
  ConfigError,
  cidr,
  integer,
  list,
  object,
  oneOf,
  optionalString,
  string,
  stringMap,
  unique,
} from "./config-schema.ts";

export { ConfigError } from "./config-schema.ts";

export type Profile = "development" | "production";

/** The policy engine owns the suppression shape; the config only carries it. */
export type { RuleSuppression };

export type NetworkConfig =
  | {
      readonly mode: "create";
      readonly cidr: string;
      readonly availabilityZones: readonly string[];
      readonly allowInternetEgress: boolean;
      readonly flowLogRetentionDays: number;
    }
  | {
      readonly mode: "existing";
      readonly vpcId: string;
      readonly subnetIds: readonly string[];
      readonly routeTableIds: readonly string[];
    };

export type JumpHostConfig =
  | { readonly kind: "ec2"; readonly instanceType: string; readonly idleStopMinutes: number }
  | { readonly kind: "ecs"; readonly containerImage: string; readonly cpu: number; readonly memory: number };

export interface DatabaseCommonConfig {
  readonly engine: DatabaseEngine;
  /** Database users engineers log in as with IAM tokens (create them in the DB and GRANT rds_iam). */
  readonly iamUsers: readonly string[];
}

export type DatabaseConfig =
  | (DatabaseCommonConfig & {
      readonly mode: "create";
      readonly identifier?: string;
      readonly engineVersion?: string;
      readonly instanceClass?: string;
      readonly port?: number;
      readonly name: string;
      readonly masterUsername: string;
      readonly allocatedStorageGiB?: number;
      readonly backupRetentionDays: number;
      readonly deletionProtection: boolean;
    })
  | (DatabaseCommonConfig & {
      readonly mode: "existing";
      readonly identifier: string;
      readonly securityGroupId: string;
    });

export interface SessionPreferencesConfig {
  readonly idleSessionTimeoutMinutes: number;
  readonly maxSessionDurationMinutes: number;
  readonly logRetentionDays: number;
  readonly manageDocument: boolean;
  readonly adoptExistingDocument: boolean;
}

export interface AccessConfig {
  readonly role?: { readonly trustedPrincipalArns: readonly string[]; readonly requireMfa: boolean };
  readonly groupName?: string;
}

export interface BackendConfig {
  readonly bucket: string;
  readonly key: string;
  readonly region: string;
}

export interface StackConfig {
  readonly name: string;
  readonly region: string;
  /** "production" turns on Multi-AZ, enhanced monitoring and Performance Insights. */
  readonly profile: Profile;
  readonly network: NetworkConfig;
  readonly jumpHost: JumpHostConfig;
  readonly database: DatabaseConfig;
  readonly sessionPreferences: SessionPreferencesConfig;
  readonly access: AccessConfig;
  /** S3 remote state with native S3 locking (`use_lockfile`); local state when absent. */
  readonly backend?: BackendConfig;
  /** Extra tags on every resource (besides `dbtunnel:stack`). */
  readonly tags: Readonly<Record<string, string>>;
}

export interface DbtunnelConfig {
  readonly stacks: readonly StackConfig[];
  readonly policy: { readonly suppressions: readonly RuleSuppression[] };
}

const STACK_NAME = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const DB_USER = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;
const SG_ID = /^sg-[0-9a-f]{8,17}$/;

/** Reads and validates the config file; throws ConfigError (one line) on anything wrong. */
export function loadConfig(path: string): DbtunnelConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new ConfigError(
      path,
      "cannot be read",
      "create it (see stacks/config.ts for the format) or set DBTUNNEL_CONFIG",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, `is not valid JSON (${(error as Error).message})`, "fix the JSON syntax");
  }
  return parseConfig(json);
}

/** Validates an already-parsed config object. */
export function parseConfig(json: unknown): DbtunnelConfig {
  const root = object("config", json, ["$schema", "stacks", "policy"]);
  const stacks = list("stacks", root.stacks, parseStack, 1);
  unique(
    "stacks[].name",
    stacks.map((s) => s.name),
  );
  const policy = root.policy === undefined ? {} : object("policy", root.policy, ["suppressions"]);
  const suppressions =
    policy.suppressions === undefined
      ? []
      : list("policy.suppressions", policy.suppressions, (path, value) => {
          const s = object(path, value, ["ruleId", "reason"]);
          return {
            ruleId: string(`${path}.ruleId`, s.ruleId),
            reason: string(`${path}.reason`, s.reason, /\S/, "say why the rule does not apply to this stack"),
          };
        });
  return { stacks, policy: { suppressions } };
}

function parseStack(path: string, value: unknown): StackConfig {
  const s = object(path, value, [
    "name",
    "region",
    "profile",
    "network",
    "jumpHost",
    "database",
    "sessionPreferences",
    "access",
    "backend",
    "tags",
  ]);
  const name = string(
    `${path}.name`,
    s.name,
    STACK_NAME,
    "use 3-40 lowercase letters, digits and hyphens, starting with a letter",
  );
  const region = string(`${path}.region`, s.region, REGION, 'use an AWS region such as "us-east-1"');
  const tags = stringMap(`${path}.tags`, s.tags);
  for (const key of Object.keys(tags)) {
    if (key.startsWith("dbtunnel:"))
      throw new ConfigError(
        `${path}.tags.${key}`,
        "uses the reserved dbtunnel: prefix",
        "choose another key",
      );
  }
  return {
    name,
    region,
    profile: oneOf(`${path}.profile`, s.profile, ["development", "production"] as const, "development"),
    network: parseNetwork(`${path}.network`, s.network, region),
    jumpHost: parseJumpHost(`${path}.jumpHost`, s.jumpHost ?? {}),
    database: parseDatabase(`${path}.database`, s.database),
    sessionPreferences: parseSessionPreferences(`${path}.sessionPreferences`, s.sessionPreferences ?? {}),
    access: parseAccess(`${path}.access`, s.access ?? {}),
    backend: s.backend === undefined ? undefined : parseBackend(`${path}.backend`, s.backend, name),
    tags,
  };
}

function parseNetwork(path: string, value: unknown, region: string): NetworkConfig {
  const n = object(path, value, [
    "cidr",
    "availabilityZones",
    "allowInternetEgress",
    "flowLogRetentionDays",
    "existingVpc",
  ]);
  if (n.existingVpc !== undefined) {
    for (const key of ["cidr", "availabilityZones", "allowInternetEgress", "flowLogRetentionDays"]) {
      if (n[key] !== undefined)
        throw new ConfigError(
          `${path}.${key}`,
          "cannot be combined with existingVpc",
          `remove ${key} or existingVpc`,
        );
    }
    const e = object(`${path}.existingVpc`, n.existingVpc, ["vpcId", "subnetIds", "routeTableIds"]);
    const subnetIds = list(
      `${path}.existingVpc.subnetIds`,
      e.subnetIds,
      (p, v) => string(p, v, /^subnet-[0-9a-f]{8,17}$/, 'use a subnet id such as "subnet-0123abcd"'),
      2,
    );
    unique(`${path}.existingVpc.subnetIds`, subnetIds);
    return {
      mode: "existing",
      vpcId: string(
        `${path}.existingVpc.vpcId`,
        e.vpcId,
        /^vpc-[0-9a-f]{8,17}$/,
        'use a VPC id such as "vpc-0123abcd"',
      ),
      subnetIds,
      routeTableIds: list(
        `${path}.existingVpc.routeTableIds`,
        e.routeTableIds,
        (p, v) => string(p, v, /^rtb-[0-9a-f]{8,17}$/, 'use a route table id such as "rtb-0123abcd"'),
        1,
      ),
    };
  }
  const zones = list(
    `${path}.availabilityZones`,
    n.availabilityZones,
    (p, v) => string(p, v, new RegExp(`^${region}[a-z]$`), `use a zone of ${region}, e.g. "${region}a"`),
    2,
  );
  unique(`${path}.availabilityZones`, zones);
  if (zones.length > 15)
    throw new ConfigError(`${path}.availabilityZones`, `lists ${zones.length} zones`, "list at most 15");
  return {
    mode: "create",
    cidr: n.cidr === undefined ? "10.40.0.0/16" : cidr(`${path}.cidr`, n.cidr, 16, 24),
    availabilityZones: zones,
    allowInternetEgress: boolean(`${path}.allowInternetEgress`, n.allowInternetEgress, false),
    flowLogRetentionDays: integer(`${path}.flowLogRetentionDays`, n.flowLogRetentionDays, 1, 3653, 365),
  };
}

function parseJumpHost(path: string, value: unknown): JumpHostConfig {
  const j = object(path, value, [
    "kind",
    "instanceType",
    "idleStopMinutes",
    "containerImage",
    "cpu",
    "memory",
  ]);
  const kind = oneOf(`${path}.kind`, j.kind, ["ec2", "ecs"] as const, "ec2");
  const onlyFor = (keys: string[], other: string) => {
    for (const key of keys) {
      if (j[key] !== undefined)
        throw new ConfigError(
          `${path}.${key}`,
          `applies only to kind "${other}"`,
          `remove it or set kind "${other}"`,
        );
    }
  };
  if (kind === "ec2") {
    onlyFor(["containerImage", "cpu", "memory"], "ecs");
    return {
      kind,
      instanceType:
        optionalString(
          `${path}.instanceType`,
          j.instanceType,
          /^[a-z][a-z0-9-]*\.[a-z0-9]+$/,
          'use an instance type such as "t3.micro"',
        ) ?? "t3.micro",
      idleStopMinutes: integer(`${path}.idleStopMinutes`, j.idleStopMinutes, 1, 1440, 30),
    };
  }
  onlyFor(["instanceType", "idleStopMinutes"], "ec2");
  if (j.containerImage === undefined) {
    throw new ConfigError(
      `${path}.containerImage`,
      'is required for kind "ecs"',
      "push an image with a shell to a private ECR repository and give its URI",
    );
  }
  return {
    kind,
    containerImage: string(`${path}.containerImage`, j.containerImage),
    cpu: integer(`${path}.cpu`, j.cpu, 256, 16384, 256),
    memory: integer(`${path}.memory`, j.memory, 512, 122880, 512),
  };
}

function parseDatabase(path: string, value: unknown): DatabaseConfig {
  const d = object(path, value, [
    "engine",
    "iamUsers",
    "existing",
    "identifier",
    "engineVersion",
    "instanceClass",
    "port",
    "name",
    "masterUsername",
    "allocatedStorageGiB",
    "backupRetentionDays",
    "deletionProtection",
  ]);
  const engine = oneOf(`${path}.engine`, d.engine, DATABASE_ENGINES, "postgres");
  const iamUsers = list(
    `${path}.iamUsers`,
    d.iamUsers,
    (p, v) => string(p, v, DB_USER, "use letters, digits and underscores, starting with a letter"),
    1,
  );
  unique(`${path}.iamUsers`, iamUsers);
  if (d.existing !== undefined) {
    for (const key of Object.keys(d)) {
      if (!["engine", "iamUsers", "existing"].includes(key)) {
        throw new ConfigError(
          `${path}.${key}`,
          "cannot be combined with existing",
          `remove ${key}: the existing database keeps its own settings`,
        );
      }
    }
    const e = object(`${path}.existing`, d.existing, ["identifier", "securityGroupId"]);
    return {
      mode: "existing",
      engine,
      iamUsers,
      identifier: string(`${path}.existing.identifier`, e.identifier),
      securityGroupId: string(
        `${path}.existing.securityGroupId`,
        e.securityGroupId,
        SG_ID,
        'use the id of a group attached to the database, e.g. "sg-0123abcd"',
      ),
    };
  }
  const masterUsername =
    optionalString(
      `${path}.masterUsername`,
      d.masterUsername,
      /^[a-zA-Z][a-zA-Z0-9_]{0,15}$/,
      "use 1-16 letters, digits or underscores, starting with a letter",
    ) ?? "dbadmin";
  if (iamUsers.includes(masterUsername)) {
    throw new ConfigError(
      `${path}.iamUsers`,
      `includes the master user "${masterUsername}"`,
      "give engineers their own database users",
    );
  }
  return {
    mode: "create",
    engine,
    iamUsers,
    identifier: optionalString(
      `${path}.identifier`,
      d.identifier,
      /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/,
      "use lowercase letters, digits and single hyphens, starting with a letter",
    ),
    engineVersion: optionalString(
      `${path}.engineVersion`,
      d.engineVersion,
      /^\d+(\.\d+)*$/,
      'use a version such as "16" or "8.0"',
    ),
    instanceClass: optionalString(
      `${path}.instanceClass`,
      d.instanceClass,
      /^db\.[a-z0-9]+\.[a-z0-9]+$/,
      'use a class such as "db.t4g.micro"',
    ),
    port: d.port === undefined ? undefined : integer(`${path}.port`, d.port, 1150, 65535),
    name:
      optionalString(
        `${path}.name`,
        d.name,
        /^[a-zA-Z][a-zA-Z0-9_]{0,15}$/,
        "use 1-16 letters, digits or underscores, starting with a letter",
      ) ?? "app",
    masterUsername,
    allocatedStorageGiB:
      d.allocatedStorageGiB === undefined
        ? undefined
        : engine === "aurora-postgresql"
          ? (() => {
              throw new ConfigError(
                `${path}.allocatedStorageGiB`,
                "does not apply to aurora-postgresql",
                "remove it (Aurora storage grows automatically)",
              );
            })()
          : integer(`${path}.allocatedStorageGiB`, d.allocatedStorageGiB, 20, 65536),
    backupRetentionDays: integer(`${path}.backupRetentionDays`, d.backupRetentionDays, 2, 35, 7),
    deletionProtection: boolean(`${path}.deletionProtection`, d.deletionProtection, true),
  };
}

function parseSessionPreferences(path: string, value: unknown): SessionPreferencesConfig {
  const p = object(path, value, [
    "idleSessionTimeoutMinutes",
    "maxSessionDurationMinutes",
    "logRetentionDays",
    "manageDocument",
    "adoptExistingDocument",
  ]);
  const config = {
    idleSessionTimeoutMinutes: integer(
      `${path}.idleSessionTimeoutMinutes`,
      p.idleSessionTimeoutMinutes,
      1,
      60,
      20,
    ),
    maxSessionDurationMinutes: integer(
      `${path}.maxSessionDurationMinutes`,
      p.maxSessionDurationMinutes,
      1,
      1440,
      480,
    ),
    logRetentionDays: integer(`${path}.logRetentionDays`, p.logRetentionDays, 1, 3653, 365),
    manageDocument: boolean(`${path}.manageDocument`, p.manageDocument, true),
    adoptExistingDocument: boolean(`${path}.adoptExistingDocument`, p.adoptExistingDocument, false),
  };
  if (config.adoptExistingDocument && !config.manageDocument) {
    throw new ConfigError(
      `${path}.adoptExistingDocument`,
      "is true but manageDocument is false",
      "set manageDocument to true or remove adoptExistingDocument",
    );
  }
  return config;
}

function parseAccess(path: string, value: unknown): AccessConfig {
  const a = object(path, value, ["role", "groupName"]);
  const groupName = optionalString(
    `${path}.groupName`,
    a.groupName,
    /^[\w+=,.@-]{1,128}$/,
    "use an existing IAM group name",
  );
  if (a.role === undefined) return { groupName };
  const r = object(`${path}.role`, a.role, ["trustedPrincipalArns", "requireMfa"]);
  return {
    groupName,
    role: {
      trustedPrincipalArns: list(
        `${path}.role.trustedPrincipalArns`,
        r.trustedPrincipalArns,
        (p, v) =>
          string(
            p,
            v,
            /^arn:aws[a-z-]*:iam::\d{12}:[\w+=,.@/-]+$/,
            'use an IAM ARN such as "arn:aws:iam::123456789012:root"',
          ),
        1,
      ),
      requireMfa: boolean(`${path}.role.requireMfa`, r.requireMfa, true),
    },
  };
}

function parseBackend(path: string, value: unknown, stackName: string): BackendConfig {
  const b = object(path, value, ["bucket", "key", "region"]);
  return {
    bucket: string(`${path}.bucket`, b.bucket, /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "use an S3 bucket name"),
    key: optionalString(`${path}.key`, b.key) ?? `dbtunnel/${stackName}.tfstate`,
    region: string(`${path}.region`, b.region, REGION, 'use an AWS region such as "us-east-1"'),
  };
}
