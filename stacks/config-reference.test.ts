/**
 * The configuration reference agrees with the parser and with docs/configuration.md: every object the
 * parser reads lists exactly the documented keys (asked of the parser itself: an unknown key's error names
 * the allowed ones), every documented field's parent is an object the parser reads, every rule id exists,
 * and the committed Markdown is what the list renders.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ALL_RULES } from "../policy/rules/index.ts";
import { ConfigError, parseConfig } from "./config.ts";
import { CONFIG_FIELDS, renderConfigReference } from "./config-reference.ts";

/** A valid config with every optional object present, so the parser reaches each of them. */
function baseConfig(): Record<string, unknown> {
  return {
    stacks: [
      {
        name: "probe",
        region: "us-east-1",
        network: { availabilityZones: ["us-east-1a", "us-east-1b"] },
        jumpHost: { kind: "ec2" },
        database: { iamUsers: ["app_engineer"] },
        sessionPreferences: {},
        access: { role: { trustedPrincipalArns: ["arn:aws:iam::123456789012:root"] } },
        backend: { bucket: "state-bucket", region: "us-east-1" },
        tags: {},
      },
    ],
    policy: { suppressions: [{ ruleId: "CKV_AWS_157", reason: "probe" }] },
  };
}

/** Each object of the config the parser checks with a key list, and how to reach it in baseConfig. */
const OBJECTS: Record<string, (config: Record<string, unknown>) => Record<string, unknown>> = {
  "": (c) => c,
  "stacks[]": (c) => (c.stacks as Record<string, unknown>[])[0] as Record<string, unknown>,
  "stacks[].network": (c) => OBJECTS["stacks[]"]?.(c).network as Record<string, unknown>,
  "stacks[].jumpHost": (c) => OBJECTS["stacks[]"]?.(c).jumpHost as Record<string, unknown>,
  "stacks[].database": (c) => OBJECTS["stacks[]"]?.(c).database as Record<string, unknown>,
  "stacks[].sessionPreferences": (c) =>
    OBJECTS["stacks[]"]?.(c).sessionPreferences as Record<string, unknown>,
  "stacks[].access": (c) => OBJECTS["stacks[]"]?.(c).access as Record<string, unknown>,
  "stacks[].access.role": (c) => OBJECTS["stacks[].access"]?.(c).role as Record<string, unknown>,
  "stacks[].backend": (c) => OBJECTS["stacks[]"]?.(c).backend as Record<string, unknown>,
  policy: (c) => c.policy as Record<string, unknown>,
  "policy.suppressions[]": (c) =>
    ((c.policy as Record<string, unknown>).suppressions as Record<string, unknown>[])[0] as Record<
      string,
      unknown
    >,
  "stacks[].network.existingVpc": (c) => {
    const network = OBJECTS["stacks[]"]?.(c) as Record<string, unknown>;
    network.network = {
      existingVpc: {
        vpcId: "vpc-0123abcd",
        subnetIds: ["subnet-0123abcd", "subnet-0123abce"],
        routeTableIds: ["rtb-0123abcd"],
      },
    };
    return (network.network as Record<string, unknown>).existingVpc as Record<string, unknown>;
  },
  "stacks[].database.existing": (c) => {
    const stack = OBJECTS["stacks[]"]?.(c) as Record<string, unknown>;
    stack.database = {
      iamUsers: ["app_engineer"],
      existing: { identifier: "db", securityGroupId: "sg-0123abcd" },
    };
    return (stack.database as Record<string, unknown>).existing as Record<string, unknown>;
  },
};

/** The keys the parser allows in one object: its error for an unknown key lists them. */
function parserKeys(object: string): string[] {
  const config = baseConfig();
  const target = OBJECTS[object]?.(config);
  if (!target) throw new Error(`no probe for ${object}`);
  target.zzUnknown = true;
  try {
    parseConfig(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const match = /use one of: (.*)$/.exec(error.message);
    if (match?.[1]) return match[1].split(", ").sort();
    throw new Error(`unexpected error for ${object}: ${error.message}`);
  }
  throw new Error(`the parser accepted an unknown key in ${object}`);
}

function documentedKeys(object: string): string[] {
  const prefix = object === "" ? "" : `${object}.`;
  return CONFIG_FIELDS.map((f) => f.path)
    .filter((p) => p.startsWith(prefix))
    .map((p) => p.slice(prefix.length))
    .filter((rest) => rest !== "" && !rest.includes("."))
    .map((rest) => rest.replace(/\[\]$/, ""))
    .sort();
}

describe("configuration reference", () => {
  test("the base probe config is valid", () => {
    expect(() => parseConfig(baseConfig())).not.toThrow();
  });

  for (const object of Object.keys(OBJECTS)) {
    test(`${object || "the top level"}: documented keys = the parser's keys`, () => {
      expect(documentedKeys(object)).toEqual(parserKeys(object));
    });
  }

  test("every documented field sits in an object the parser checks (nothing documented that is not read)", () => {
    for (const field of CONFIG_FIELDS) {
      const parent = field.path.includes(".") ? field.path.slice(0, field.path.lastIndexOf(".")) : "";
      expect({ field: field.path, parentChecked: parent in OBJECTS }).toEqual({
        field: field.path,
        parentChecked: true,
      });
    }
  });

  test("every rule id named is a rule of the policy (or one of its aliases)", () => {
    const ids = new Set(ALL_RULES.flatMap((r) => [r.id, ...(r.aliases ?? [])]));
    for (const field of CONFIG_FIELDS) {
      for (const id of field.rules.split(", ").filter((x) => x !== "" && x !== "any")) {
        expect({ field: field.path, id, known: ids.has(id) }).toEqual({ field: field.path, id, known: true });
      }
    }
  });

  test("docs/configuration.md is what the list renders (regenerate: bun scripts/config-reference.ts)", () => {
    const committed = readFileSync(join(import.meta.dir, "..", "docs", "configuration.md"), "utf8");
    expect(committed).toBe(renderConfigReference());
  });
});
