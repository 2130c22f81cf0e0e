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
import {
  CREATABLE_ENGINES,
  DATABASE_ENGINES,
  type DatabaseEngine,
  ENGINE_FACTS,
} from "../contract/engines.ts";
import type { RuleSuppression } from "../contract/policy-report.ts";
import { RESERVED_TAG_PREFIX, STACK_TAG } from "../contract/tags.ts";
import { DB_USER, REGION } from "../contract/values.ts";
import { DATABASE_RULES } from "../modules/database.ts";
import { EC2_JUMP_HOST_RULES } from "../modules/jumphost-ec2.ts";
import { ECS_JUMP_HOST_RULES } from "../modules/jumphost-ecs.ts";
import { NETWORK_RULES } from "../modules/network.ts";
import type { IntRule } from "../modules/props-error.ts";
import { SESSION_PREFERENCES_RULES } from "../modules/session-preferences.ts";
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

export type { RuleSuppression } from "../contract/policy-report.ts";

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
const SG_ID = /^sg-[0-9a-f]{8,17}$/;

/** A whole number by a module's own rule: its range and, when it has one, its default. */
function intRule(path: string, value: unknown, rule: IntRule): number {
  return integer(path, value, rule.min, rule.max, rule.default);
}

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
    if (key.startsWith(RESERVED_TAG_PREFIX))
      throw new ConfigError(
        `${path}.tags.${key}`,
        `uses the reserved ${RESERVED_TAG_PREFIX} prefix (${STACK_TAG} and the like are set by the stack)`,
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
  if (zones.length > NETWORK_RULES.maxAvailabilityZones)
    throw new ConfigError(
      `${path}.availabilityZones`,
      `lists ${zones.length} zones`,
      `list at most ${NETWORK_RULES.maxAvailabilityZones}`,
    );
  return {
    mode: "create",
    cidr:
      n.cidr === undefined
        ? NETWORK_RULES.defaultCidr
        : cidr(`${path}.cidr`, n.cidr, NETWORK_RULES.cidrPrefix.min, NETWORK_RULES.cidrPrefix.max),
    availabilityZones: zones,
    allowInternetEgress: boolean(`${path}.allowInternetEgress`, n.allowInternetEgress, false),
    flowLogRetentionDays: intRule(
      `${path}.flowLogRetentionDays`,
      n.flowLogRetentionDays,
      NETWORK_RULES.flowLogRetentionDays,
    ),
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
          EC2_JUMP_HOST_RULES.instanceType.pattern,
          EC2_JUMP_HOST_RULES.instanceType.hint,
        ) ?? EC2_JUMP_HOST_RULES.defaultInstanceType,
      idleStopMinutes: intRule(
        `${path}.idleStopMinutes`,
        j.idleStopMinutes,
        EC2_JUMP_HOST_RULES.idleStopMinutes,
      ),
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
    cpu: intRule(`${path}.cpu`, j.cpu, ECS_JUMP_HOST_RULES.cpu),
    memory: intRule(`${path}.memory`, j.memory, ECS_JUMP_HOST_RULES.memory),
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
  // An existing database may be any engine the CLI reaches; a new one only what the Database module creates.
  const engine = oneOf(
    `${path}.engine`,
    d.engine,
    d.existing !== undefined ? DATABASE_ENGINES : CREATABLE_ENGINES,
    "postgres",
  );
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
  const R = DATABASE_RULES;
  const masterUsername =
    optionalString(`${path}.masterUsername`, d.masterUsername, R.name.pattern, R.name.hint) ??
    R.defaultMasterUsername;
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
    identifier: optionalString(`${path}.identifier`, d.identifier, R.identifier.pattern, R.identifier.hint),
    engineVersion: optionalString(
      `${path}.engineVersion`,
      d.engineVersion,
      R.engineVersion.pattern,
      R.engineVersion.hint,
    ),
    instanceClass: optionalString(
      `${path}.instanceClass`,
      d.instanceClass,
      R.instanceClass.pattern,
      R.instanceClass.hint,
    ),
    port: d.port === undefined ? undefined : integer(`${path}.port`, d.port, R.port.min, R.port.max),
    name: optionalString(`${path}.name`, d.name, R.name.pattern, R.name.hint) ?? R.defaultDatabaseName,
    masterUsername,
    allocatedStorageGiB:
      d.allocatedStorageGiB === undefined
        ? undefined
        : ENGINE_FACTS[engine].isCluster
          ? (() => {
              throw new ConfigError(
                `${path}.allocatedStorageGiB`,
                `does not apply to ${engine}`,
                "remove it (Aurora storage grows automatically)",
              );
            })()
          : integer(
              `${path}.allocatedStorageGiB`,
              d.allocatedStorageGiB,
              R.allocatedStorageGiB.min,
              R.allocatedStorageGiB.max,
            ),
    backupRetentionDays: intRule(`${path}.backupRetentionDays`, d.backupRetentionDays, R.backupRetentionDays),
    deletionProtection: boolean(
      `${path}.deletionProtection`,
      d.deletionProtection,
      R.defaultDeletionProtection,
    ),
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
    idleSessionTimeoutMinutes: intRule(
      `${path}.idleSessionTimeoutMinutes`,
      p.idleSessionTimeoutMinutes,
      SESSION_PREFERENCES_RULES.idleSessionTimeoutMinutes,
    ),
    maxSessionDurationMinutes: intRule(
      `${path}.maxSessionDurationMinutes`,
      p.maxSessionDurationMinutes,
      SESSION_PREFERENCES_RULES.maxSessionDurationMinutes,
    ),
    logRetentionDays: intRule(
      `${path}.logRetentionDays`,
      p.logRetentionDays,
      SESSION_PREFERENCES_RULES.logRetentionDays,
    ),
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
