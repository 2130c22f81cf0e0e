import { ROLE_TAG, type Role } from "../contract/tags.ts";
import type { TerraformJson } from "./types.ts";

/**
 * Readers for synthesized Terraform JSON. cdktf writes single nested blocks as objects and repeated ones as
 * arrays, hand-edited files do either, and any value may be a `${...}` expression: every reader here
 * tolerates all of those shapes so rules stay short.
 */

export type TfObject = Readonly<Record<string, unknown>>;

export interface TfBlock {
  /** `resource` or `data`. */
  readonly mode: "resource" | "data";
  readonly type: string;
  readonly name: string;
  /** Terraform address: `aws_vpc.main` or `data.aws_ami.al2023`. */
  readonly address: string;
  readonly body: TfObject;
}

export function isObject(v: unknown): v is TfObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A block that may be written as an object, a one-element array, or left out. */
export function asObject(v: unknown): TfObject | undefined {
  if (Array.isArray(v)) return isObject(v[0]) ? v[0] : undefined;
  return isObject(v) ? v : undefined;
}

/** A repeated block or list attribute written as an array, a single object/value, or left out. */
export function asArray(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

export function asObjects(v: unknown): TfObject[] {
  return asArray(v).filter(isObject);
}

export function asStrings(v: unknown): string[] {
  return asArray(v).filter((x): x is string => typeof x === "string");
}

export function asString(v: unknown): string | undefined {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
}

/** Terraform accepts `true` and `"true"` for booleans. Anything else (expressions included) is not true. */
export function isTrue(v: unknown): boolean {
  return v === true || v === "true";
}

export function isFalse(v: unknown): boolean {
  return v === false || v === "false";
}

export function asNumber(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

/** Reads `snake_case` first, then the camelCase spelling some provider versions leave in nested blocks. */
export function field(obj: TfObject | undefined, snake: string): unknown {
  if (!obj) return undefined;
  if (snake in obj) return obj[snake];
  const camel = snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  return obj[camel];
}

/**
 * Terraform's JSON syntax lets any block level be an array of objects (`"resource": [{...}, {...}]`,
 * `"x": [{...}]`); cdktf writes plain objects. Both are read.
 */
function blocksOf(tf: TerraformJson, mode: "resource" | "data", type: string): TfBlock[] {
  const prefix = mode === "data" ? "data." : "";
  const out: TfBlock[] = [];
  for (const section of asObjects(tf[mode])) {
    for (const ofType of asObjects(section[type])) {
      for (const [name, value] of Object.entries(ofType)) {
        const body = asObject(value);
        if (body) out.push({ mode, type, name, address: `${prefix}${type}.${name}`, body });
      }
    }
  }
  return out;
}

export function resources(tf: TerraformJson, ...types: string[]): TfBlock[] {
  return types.flatMap((t) => blocksOf(tf, "resource", t));
}

export function dataSources(tf: TerraformJson, ...types: string[]): TfBlock[] {
  return types.flatMap((t) => blocksOf(tf, "data", t));
}

/** Looks a block up by address (`aws_vpc.main`, `data.aws_ami.x`). */
export function blockAt(tf: TerraformJson, address: string): TfBlock | undefined {
  const parts = address.split(".");
  const [mode, type, name] =
    parts[0] === "data"
      ? (["data", parts[1], parts[2]] as const)
      : (["resource", parts[0], parts[1]] as const);
  if (!type || !name) return undefined;
  return blocksOf(tf, mode, type).find((b) => b.name === name);
}

const REF = /(?<![\w.])((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_]+))?/g;

/** Every resource/data address a string's `${...}` expressions mention, with the attribute read. */
export function references(v: unknown): { address: string; attribute: string | undefined }[] {
  if (typeof v !== "string" || !v.includes("${")) return [];
  const out: { address: string; attribute: string | undefined }[] = [];
  for (const expr of v.matchAll(/\$\{([^}]*)\}/g)) {
    const body = expr[1] ?? "";
    for (const m of body.matchAll(REF)) {
      if (m[1]) out.push({ address: m[1], attribute: m[2] });
    }
  }
  return out;
}

/** The address a value points at when it is exactly one reference like `${aws_security_group.x.id}`. */
export function exactReference(v: unknown): { address: string; attribute: string | undefined } | undefined {
  if (typeof v !== "string") return undefined;
  const m = /^\$\{((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)(?:\.([A-Za-z0-9_]+))?\}$/.exec(v.trim());
  if (!m?.[1]) return undefined;
  return { address: m[1], attribute: m[2] };
}

/** Whether `v` mentions the block at `address` (exactly or inside a larger expression). */
export function mentions(v: unknown, address: string): boolean {
  return asArray(v).some((x) => references(x).some((r) => r.address === address));
}

/** Tags a resource ends up with: provider `default_tags` merged under the resource's own `tags`. */
export function effectiveTags(tf: TerraformJson, block: TfBlock): Record<string, string> {
  const tags: Record<string, string> = {};
  const provider = isObject(tf.provider) ? tf.provider : undefined;
  const aws = asObject(provider?.aws);
  for (const dt of asObjects(aws?.default_tags)) {
    const t = asObject(dt.tags);
    if (t) for (const [k, v] of Object.entries(t)) if (typeof v === "string") tags[k] = v;
  }
  const own = asObject(block.body.tags);
  if (own) for (const [k, v] of Object.entries(own)) if (typeof v === "string") tags[k] = v;
  return tags;
}

export function hasRole(tf: TerraformJson, block: TfBlock, role: Role): boolean {
  return effectiveTags(tf, block)[ROLE_TAG] === role;
}

/** Parses a JSON string; undefined when it is not JSON (e.g. a `${jsonencode(...)}` expression). */
export function parseJson(v: unknown): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}
