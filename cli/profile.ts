/**
 * The `dbtunnel up` profile: a JSON file naming the databases to proxy at once. Every value is checked
 * before anything starts; each problem is one line naming the file, the field and what to write instead.
 *
 * {
 *   "targets": [
 *     { "name": "orders", "outputs": "outputs.json", "stack": "dev", "user": "app_user",
 *       "database": "orders", "localPort": 15432 },
 *     { "name": "reports", "stack": "reports", "region": "eu-west-1", "db": "reports-db",
 *       "user": "analyst", "localPort": 15433 }
 *   ],
 *   "localTls": false,
 *   "caBundle": "rds-global-bundle.pem"
 * }
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isRecord } from "../contract/values.ts";
import { CliError } from "./errors.ts";

export interface ProfileTarget {
  /** Shown in output; unique in the profile. */
  readonly name: string;
  /** cdktf outputs file, relative to the profile's directory. */
  readonly outputs?: string;
  readonly stack?: string;
  readonly db?: string;
  readonly region?: string;
  readonly user: string;
  readonly database?: string;
  readonly localPort: number;
}

export interface Profile {
  readonly path: string;
  readonly targets: readonly ProfileTarget[];
  /** @default false */
  readonly localTls: boolean;
  /** Relative to the profile's directory. @default DBTUNNEL_CA_BUNDLE, else the RDS global bundle */
  readonly caBundle?: string;
}

export const DEFAULT_PROFILE = "dbtunnel-up.json";

const TOP_KEYS = new Set(["targets", "localTls", "caBundle", "$schema"]);
const TARGET_KEYS = new Set(["name", "outputs", "stack", "db", "region", "user", "database", "localPort"]);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const PG_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const STACK = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const DB_IDENTIFIER = /^[A-Za-z][A-Za-z0-9-]{0,62}$/;

export function readProfile(path: string): Profile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw profileError(
      path,
      code === "ENOENT"
        ? `not found: create it (see 'dbtunnel up --help' for the format) or name another file`
        : `cannot be read (${code ?? (error as Error).message})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw profileError(path, `is not valid JSON (${(error as Error).message})`);
  }
  return parseProfile(raw, path);
}

/** Validates a parsed profile; relative paths are resolved against the profile's directory. */
export function parseProfile(raw: unknown, path: string): Profile {
  const base = dirname(resolve(path));
  if (!isRecord(raw)) throw profileError(path, "must be a JSON object with a 'targets' array");
  unknownKeys(raw, TOP_KEYS, path, "");
  const targets = raw.targets;
  if (!Array.isArray(targets) || targets.length === 0) {
    throw profileError(path, "'targets' must be a non-empty array of { name, user, localPort, ... }");
  }
  const parsed = targets.map((t, i) => parseTarget(t, i, path, base));
  const names = new Set<string>();
  const ports = new Set<number>();
  parsed.forEach((t, i) => {
    if (names.has(t.name))
      throw profileError(path, `targets[${i}].name '${t.name}' is used twice: names must be unique`);
    if (ports.has(t.localPort)) {
      throw profileError(
        path,
        `targets[${i}].localPort ${t.localPort} is used twice: give each target its own port`,
      );
    }
    names.add(t.name);
    ports.add(t.localPort);
  });
  if (raw.localTls !== undefined && typeof raw.localTls !== "boolean") {
    throw profileError(path, "'localTls' must be true or false");
  }
  const caBundle = optionalString(raw, "caBundle", path, "", /^.{1,4096}$/, "a file path");
  return {
    path,
    targets: parsed,
    localTls: raw.localTls === true,
    ...(caBundle ? { caBundle: resolve(base, caBundle) } : {}),
  };
}

function parseTarget(raw: unknown, index: number, path: string, base: string): ProfileTarget {
  const at = `targets[${index}]`;
  if (!isRecord(raw)) throw profileError(path, `${at} must be an object with name, user and localPort`);
  unknownKeys(raw, TARGET_KEYS, path, `${at}.`);
  const name = requiredString(raw, "name", path, at, NAME, "letters, digits, '.', '_' or '-' (up to 63)");
  const user = requiredString(
    raw,
    "user",
    path,
    at,
    PG_IDENTIFIER,
    "a database user name (a role granted rds_iam)",
  );
  const localPort = raw.localPort;
  if (
    typeof localPort !== "number" ||
    !Number.isInteger(localPort) ||
    localPort < 1024 ||
    localPort > 65535
  ) {
    throw profileError(
      path,
      `${at}.localPort must be an integer from 1024 to 65535 (got ${JSON.stringify(localPort)})`,
    );
  }
  const outputs = optionalString(raw, "outputs", path, at, /^.{1,4096}$/, "the path of a cdktf outputs file");
  const stack = optionalString(raw, "stack", path, at, STACK, "a stack name");
  const db = optionalString(raw, "db", path, at, DB_IDENTIFIER, "an RDS instance identifier");
  const region = optionalString(raw, "region", path, at, REGION, "an AWS region such as eu-west-1");
  const database = optionalString(raw, "database", path, at, /^[^\0]{1,63}$/, "a database name");
  if (!outputs && !stack) {
    throw profileError(
      path,
      `${at} needs 'outputs' (a cdktf outputs file) or 'stack' (found by its dbtunnel:stack tag)`,
    );
  }
  return {
    name,
    user,
    localPort,
    ...(outputs ? { outputs: resolve(base, outputs) } : {}),
    ...(stack ? { stack } : {}),
    ...(db ? { db } : {}),
    ...(region ? { region } : {}),
    ...(database ? { database } : {}),
  };
}

function requiredString(
  raw: Record<string, unknown>,
  key: string,
  path: string,
  at: string,
  pattern: RegExp,
  what: string,
): string {
  const value = optionalString(raw, key, path, at, pattern, what);
  if (value === undefined) throw profileError(path, `${at}.${key} is missing: give ${what}`);
  return value;
}

function optionalString(
  raw: Record<string, unknown>,
  key: string,
  path: string,
  at: string,
  pattern: RegExp,
  what: string,
): string | undefined {
  const value = raw[key];
  if (value === undefined) return undefined;
  const field = at ? `${at}.${key}` : `'${key}'`;
  if (typeof value !== "string" || !pattern.test(value)) {
    throw profileError(path, `${field} must be ${what} (got ${JSON.stringify(value)?.slice(0, 80)})`);
  }
  return value;
}

function unknownKeys(raw: Record<string, unknown>, allowed: Set<string>, path: string, at: string): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.has(key)) {
      throw profileError(
        path,
        `unknown field '${at}${key}' (allowed: ${[...allowed].filter((k) => k !== "$schema").join(", ")})`,
      );
    }
  }
}

function profileError(path: string, problem: string): CliError {
  return new CliError(`Profile ${path}: ${problem}.`, { code: "BadProfile" });
}
