/**
 * Every field of dbtunnel.config.json: type, default, what it changes and which security rule it touches.
 * docs/configuration.md is generated from this list (`bun scripts/config-reference.ts`), and
 * stacks/config-reference.test.ts fails when the list, the generated file and the parser (stacks/config.ts)
 * disagree. Defaults come from the same constants the parser and the modules use.
 */
import { CREATABLE_ENGINES, DATABASE_ENGINES } from "../contract/engines.ts";
import { DATABASE_RULES } from "../modules/database.ts";
import { EC2_JUMP_HOST_RULES } from "../modules/jumphost-ec2.ts";
import { ECS_JUMP_HOST_RULES } from "../modules/jumphost-ecs.ts";
import { NETWORK_RULES } from "../modules/network.ts";
import type { IntRule } from "../modules/props-error.ts";
import { SESSION_PREFERENCES_RULES } from "../modules/session-preferences.ts";

export interface ConfigField {
  /** JSON path; `stacks[]` is any entry of the stacks list. */
  readonly path: string;
  readonly type: string;
  /** "required", or the default written as JSON, or a sentence. */
  readonly default: string;
  readonly effect: string;
  /** Security rule ids (policy/rules) whose outcome this field decides; "" when none. */
  readonly rules: string;
}

const range = (rule: IntRule) => `integer ${rule.min}-${rule.max}`;
const json = (value: unknown) => JSON.stringify(value);

export const CONFIG_FIELDS: readonly ConfigField[] = [
  {
    path: "$schema",
    type: "string",
    default: "none",
    effect: "ignored; lets editors find a JSON schema",
    rules: "",
  },
  {
    path: "stacks",
    type: "list of objects, at least 1",
    default: "required",
    effect: "one CDKTF stack per entry (one environment each)",
    rules: "",
  },
  {
    path: "stacks[].name",
    type: "string, 3-40 of a-z 0-9 -",
    default: "required",
    effect: "stack name, resource name prefix and the dbtunnel:stack tag value; unique",
    rules: "",
  },
  {
    path: "stacks[].region",
    type: "AWS region",
    default: "required",
    effect: "region of every resource; decides the ARN partition",
    rules: "DBT-ARN-1",
  },
  {
    path: "stacks[].profile",
    type: '"development" | "production"',
    default: json("development"),
    effect: "production: Multi-AZ, enhanced monitoring, Performance Insights with the stack key",
    rules: "CKV_AWS_157",
  },
  {
    path: "stacks[].network",
    type: "object",
    default: "required",
    effect: "create a VPC (cidr, availabilityZones...) or use existingVpc",
    rules: "",
  },
  {
    path: "stacks[].network.cidr",
    type: `IPv4 CIDR /${NETWORK_RULES.cidrPrefix.min}-/${NETWORK_RULES.cidrPrefix.max}`,
    default: json(NETWORK_RULES.defaultCidr),
    effect: "address range of the new VPC",
    rules: "",
  },
  {
    path: "stacks[].network.availabilityZones",
    type: `list of zones of the region, 2-${NETWORK_RULES.maxAvailabilityZones}`,
    default: "required (new VPC)",
    effect: "one private subnet per zone",
    rules: "",
  },
  {
    path: "stacks[].network.allowInternetEgress",
    type: "boolean",
    default: json(false),
    effect: "true adds a NAT gateway path to the internet for the jump host",
    rules: "DBT-INGRESS-5, DBT-HOST-2",
  },
  {
    path: "stacks[].network.flowLogRetentionDays",
    type: range(NETWORK_RULES.flowLogRetentionDays),
    default: json(NETWORK_RULES.flowLogRetentionDays.default),
    effect: "retention of the VPC flow log group",
    rules: "CKV2_AWS_11, CKV_AWS_66",
  },
  {
    path: "stacks[].network.existingVpc",
    type: "object",
    default: "none (create a VPC)",
    effect: "bring your own VPC; excludes cidr, availabilityZones, allowInternetEgress, flowLogRetentionDays",
    rules: "CKV2_AWS_11, CKV_AWS_130",
  },
  {
    path: "stacks[].network.existingVpc.vpcId",
    type: "vpc-... id",
    default: "required",
    effect: "the VPC to deploy into",
    rules: "CKV_AWS_148",
  },
  {
    path: "stacks[].network.existingVpc.subnetIds",
    type: "list of subnet-... ids, at least 2",
    default: "required",
    effect: "private subnets for the jump host, database and endpoints",
    rules: "CKV_AWS_130",
  },
  {
    path: "stacks[].network.existingVpc.routeTableIds",
    type: "list of rtb-... ids, at least 1",
    default: "required",
    effect: "route tables that get the S3 gateway endpoint",
    rules: "",
  },
  {
    path: "stacks[].jumpHost",
    type: "object",
    default: json({ kind: "ec2" }),
    effect: "the Session Manager target",
    rules: "",
  },
  {
    path: "stacks[].jumpHost.kind",
    type: '"ec2" | "ecs"',
    default: json("ec2"),
    effect: "EC2 instance, or an ECS Fargate task reached with ECS Exec",
    rules: "CKV_AWS_79, CKV_AWS_334",
  },
  {
    path: "stacks[].jumpHost.instanceType",
    type: "EC2 instance type (ec2)",
    default: json(EC2_JUMP_HOST_RULES.defaultInstanceType),
    effect: "size of the jump host",
    rules: "",
  },
  {
    path: "stacks[].jumpHost.idleStopMinutes",
    type: `${range(EC2_JUMP_HOST_RULES.idleStopMinutes)} (ec2)`,
    default: json(EC2_JUMP_HOST_RULES.idleStopMinutes.default),
    effect: "the jump host stops itself after this long without a session; connect starts it again",
    rules: "",
  },
  {
    path: "stacks[].jumpHost.containerImage",
    type: "image URI (ecs)",
    default: "required for ecs",
    effect: "image of the jump host task (needs a shell)",
    rules: "CKV_AWS_334",
  },
  {
    path: "stacks[].jumpHost.cpu",
    type: `${range(ECS_JUMP_HOST_RULES.cpu)} (ecs)`,
    default: json(ECS_JUMP_HOST_RULES.cpu.default),
    effect: "task CPU units",
    rules: "",
  },
  {
    path: "stacks[].jumpHost.memory",
    type: `${range(ECS_JUMP_HOST_RULES.memory)} (ecs)`,
    default: json(ECS_JUMP_HOST_RULES.memory.default),
    effect: "task memory (MiB)",
    rules: "",
  },
  {
    path: "stacks[].database",
    type: "object",
    default: "required",
    effect: "create an RDS database, or use existing",
    rules: "",
  },
  {
    path: "stacks[].database.engine",
    type: `new: ${CREATABLE_ENGINES.join(" | ")}; existing: ${DATABASE_ENGINES.join(" | ")}`,
    default: json("postgres"),
    effect: "database engine (and the client connect runs)",
    rules: "",
  },
  {
    path: "stacks[].database.iamUsers",
    type: "list of database user names, at least 1",
    default: "required",
    effect:
      "users engineers log in as with IAM tokens (rds-db:connect on exactly these); create them with the README's SQL",
    rules: "DBT-IAM-3, CKV_AWS_161",
  },
  {
    path: "stacks[].database.existing",
    type: "object",
    default: "none (create a database)",
    effect: "bring your own database; only engine and iamUsers may go with it",
    rules: "",
  },
  {
    path: "stacks[].database.existing.identifier",
    type: "RDS instance or cluster identifier",
    default: "required",
    effect: "the database to reach",
    rules: "",
  },
  {
    path: "stacks[].database.existing.securityGroupId",
    type: "sg-... id",
    default: "required",
    effect: "a group on the database; the stack adds ingress from the jump host only",
    rules: "DBT-INGRESS-3",
  },
  {
    path: "stacks[].database.identifier",
    type: "RDS identifier",
    default: "<stack name>-db",
    effect: "name of the new database",
    rules: "",
  },
  {
    path: "stacks[].database.engineVersion",
    type: "version string",
    default: "the engine's default in contract/engines.ts",
    effect: "engine version of the new database",
    rules: "CKV_AWS_226",
  },
  {
    path: "stacks[].database.instanceClass",
    type: "db.... class",
    default: "the engine's default in contract/engines.ts",
    effect: "instance class of the new database",
    rules: "",
  },
  {
    path: "stacks[].database.port",
    type: `integer ${DATABASE_RULES.port.min}-${DATABASE_RULES.port.max}`,
    default: "the engine's port",
    effect: "database port",
    rules: "",
  },
  {
    path: "stacks[].database.name",
    type: "1-16 letters, digits, _",
    default: json(DATABASE_RULES.defaultDatabaseName),
    effect: "database created inside the instance",
    rules: "",
  },
  {
    path: "stacks[].database.masterUsername",
    type: "1-16 letters, digits, _",
    default: json(DATABASE_RULES.defaultMasterUsername),
    effect: "master user; its password is managed by Secrets Manager, never a literal",
    rules: "DBT-DB-1",
  },
  {
    path: "stacks[].database.allocatedStorageGiB",
    type: `${range(DATABASE_RULES.allocatedStorageGiB)} (not Aurora)`,
    default: json(DATABASE_RULES.allocatedStorageGiB.default),
    effect: "storage of the new instance",
    rules: "",
  },
  {
    path: "stacks[].database.backupRetentionDays",
    type: range(DATABASE_RULES.backupRetentionDays),
    default: json(DATABASE_RULES.backupRetentionDays.default),
    effect: "automated backup retention",
    rules: "CKV_AWS_133",
  },
  {
    path: "stacks[].database.deletionProtection",
    type: "boolean",
    default: json(DATABASE_RULES.defaultDeletionProtection),
    effect: "false lets destroy delete the database (test stacks only)",
    rules: "CKV_AWS_293",
  },
  {
    path: "stacks[].sessionPreferences",
    type: "object",
    default: "{}",
    effect: "the account's Session Manager preferences document",
    rules: "",
  },
  {
    path: "stacks[].sessionPreferences.idleSessionTimeoutMinutes",
    type: range(SESSION_PREFERENCES_RULES.idleSessionTimeoutMinutes),
    default: json(SESSION_PREFERENCES_RULES.idleSessionTimeoutMinutes.default),
    effect: "idle sessions end after this",
    rules: "",
  },
  {
    path: "stacks[].sessionPreferences.maxSessionDurationMinutes",
    type: range(SESSION_PREFERENCES_RULES.maxSessionDurationMinutes),
    default: json(SESSION_PREFERENCES_RULES.maxSessionDurationMinutes.default),
    effect: "every session ends after this",
    rules: "",
  },
  {
    path: "stacks[].sessionPreferences.logRetentionDays",
    type: range(SESSION_PREFERENCES_RULES.logRetentionDays),
    default: json(SESSION_PREFERENCES_RULES.logRetentionDays.default),
    effect: "retention of the session log group",
    rules: "CKV_AWS_66",
  },
  {
    path: "stacks[].sessionPreferences.manageDocument",
    type: "boolean",
    default: json(true),
    effect: "false: another stack or the console owns SSM-SessionManagerRunShell",
    rules: "CKV_AWS_112, CKV_AWS_113",
  },
  {
    path: "stacks[].sessionPreferences.adoptExistingDocument",
    type: "boolean",
    default: json(false),
    effect: "import the existing preferences document instead of creating it",
    rules: "",
  },
  {
    path: "stacks[].access",
    type: "object",
    default: "{}",
    effect: "who gets the engineer policy (it is always created and output)",
    rules: "",
  },
  {
    path: "stacks[].access.role",
    type: "object",
    default: "none",
    effect: "create an engineer role trusted by these principals",
    rules: "CKV_AWS_60",
  },
  {
    path: "stacks[].access.role.trustedPrincipalArns",
    type: "list of IAM ARNs, at least 1",
    default: "required",
    effect: "who may assume the engineer role",
    rules: "CKV_AWS_60",
  },
  {
    path: "stacks[].access.role.requireMfa",
    type: "boolean",
    default: json(true),
    effect: "the role's trust requires MFA",
    rules: "CKV_AWS_60",
  },
  {
    path: "stacks[].access.groupName",
    type: "IAM group name",
    default: "none",
    effect: "attach the engineer policy to this existing group",
    rules: "",
  },
  {
    path: "stacks[].backend",
    type: "object",
    default: "none (local state file)",
    effect: "S3 remote state with use_lockfile",
    rules: "",
  },
  {
    path: "stacks[].backend.bucket",
    type: "S3 bucket name",
    default: "required",
    effect: "state bucket",
    rules: "",
  },
  {
    path: "stacks[].backend.key",
    type: "string",
    default: '"dbtunnel/<stack name>.tfstate"',
    effect: "state object key",
    rules: "",
  },
  {
    path: "stacks[].backend.region",
    type: "AWS region",
    default: "required",
    effect: "region of the state bucket",
    rules: "",
  },
  {
    path: "stacks[].tags",
    type: "object of strings",
    default: "{}",
    effect: "extra tags on every resource; keys may not start with dbtunnel:",
    rules: "",
  },
  {
    path: "policy",
    type: "object",
    default: "{}",
    effect: "security policy settings for every stack",
    rules: "",
  },
  {
    path: "policy.suppressions",
    type: "list of objects",
    default: "[]",
    effect: "rules opted out of, each with a written reason (shown in the audit)",
    rules: "any",
  },
  {
    path: "policy.suppressions[].ruleId",
    type: "rule id",
    default: "required",
    effect: "the rule to suppress",
    rules: "any",
  },
  {
    path: "policy.suppressions[].reason",
    type: "non-blank string",
    default: "required",
    effect: "why the rule does not apply",
    rules: "",
  },
];

/** The Markdown of docs/configuration.md. */
export function renderConfigReference(fields: readonly ConfigField[] = CONFIG_FIELDS): string {
  const cell = (text: string) => text.replaceAll("|", "\\|");
  const header = ["field", "type", "default", "what it changes", "security rules"];
  const body = fields.map((f) => [
    `\`${f.path}\``,
    cell(f.type),
    cell(f.default),
    cell(f.effect),
    cell(f.rules),
  ]);
  // Aligned columns, as the formatter (Biome) writes Markdown tables.
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const rows = [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)];
  return [
    "# dbtunnel.config.json reference",
    "",
    "Generated from `stacks/config-reference.ts` by `bun scripts/config-reference.ts`; do not edit by hand",
    "(`stacks/config-reference.test.ts` fails when this file, that list and the parser in `stacks/config.ts`",
    "disagree). A bad value fails `npm run synth` with one line naming the field and the fix. Rule ids are",
    "those of `dbtunnel audit` (policy/README.md); a field listed against a rule decides whether the stack",
    "passes it, and opting out takes a `policy.suppressions` entry with a reason.",
    "",
    ...rows,
    "",
  ].join("\n");
}
