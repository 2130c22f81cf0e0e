/**
 * Tiny hand-written schema helpers for dbtunnel.config.json (no dependency). Every failure throws a
 * ConfigError whose message is ONE line: the JSON path of the field, what is wrong, and the fix.
 */
import { parseCidr } from "../modules/cidr.ts";

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    problem: string,
    fix: string,
  ) {
    super(`${field}: ${problem}; ${fix}`);
    this.name = "ConfigError";
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const describe = (value: unknown): string =>
  value === null
    ? "null"
    : Array.isArray(value)
      ? "a list"
      : typeof value === "object"
        ? "an object"
        : JSON.stringify(value);

/** An object with only the allowed keys (unknown keys are typos more often than not). */
export function object(path: string, value: unknown, allowed: readonly string[]): JsonObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ConfigError(path, `is ${describe(value)}`, "write an object { ... }");
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(
        `${path}.${key}`,
        "is not a known field",
        `remove it or use one of: ${allowed.join(", ")}`,
      );
    }
  }
  return value as JsonObject;
}

export function string(path: string, value: unknown, pattern?: RegExp, hint?: string): string {
  if (typeof value !== "string" || value.length === 0)
    throw new ConfigError(path, `is ${describe(value)}`, "write a non-empty string");
  if (pattern && !pattern.test(value))
    throw new ConfigError(path, `"${value}" is not valid`, hint ?? `match ${pattern}`);
  return value;
}

export function optionalString(
  path: string,
  value: unknown,
  pattern?: RegExp,
  hint?: string,
): string | undefined {
  return value === undefined ? undefined : string(path, value, pattern, hint);
}

export function integer(path: string, value: unknown, min: number, max: number, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(path, `is ${describe(value)}`, `use a whole number from ${min} to ${max}`);
  }
  return value;
}

export function boolean(path: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new ConfigError(path, `is ${describe(value)}`, "write true or false");
  return value;
}

export function oneOf<T extends string>(
  path: string,
  value: unknown,
  choices: readonly T[],
  fallback?: T,
): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    throw new ConfigError(path, `is ${describe(value)}`, `use one of: ${choices.join(", ")}`);
  }
  return value as T;
}

export function list<T>(
  path: string,
  value: unknown,
  item: (path: string, value: unknown) => T,
  minItems = 0,
): T[] {
  if (!Array.isArray(value)) throw new ConfigError(path, `is ${describe(value)}`, "write a list [ ... ]");
  if (value.length < minItems)
    throw new ConfigError(path, `has ${value.length} item(s)`, `list at least ${minItems}`);
  return value.map((v, i) => item(`${path}[${i}]`, v));
}

export function unique(path: string, values: readonly string[]): void {
  const seen = new Set<string>();
  for (const v of values) {
    if (seen.has(v)) throw new ConfigError(path, `lists "${v}" twice`, "list each value once");
    seen.add(v);
  }
}

export function cidr(path: string, value: unknown, minPrefix: number, maxPrefix: number): string {
  const text = string(path, value);
  const parsed = parseCidr(text);
  if (typeof parsed === "string")
    throw new ConfigError(path, parsed, "write a network address such as 10.40.0.0/16");
  if (parsed.prefix < minPrefix || parsed.prefix > maxPrefix) {
    throw new ConfigError(
      path,
      `"${text}" is a /${parsed.prefix}`,
      `use a prefix from /${minPrefix} to /${maxPrefix}`,
    );
  }
  return text;
}

export function stringMap(path: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  const obj = object(path, value, Object.keys(value ?? {}));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = typeof v === "string" ? v : string(`${path}.${k}`, v);
  return out;
}
