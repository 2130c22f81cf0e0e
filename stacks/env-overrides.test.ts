import { describe, expect, test } from "bun:test";
import { parseConfig } from "./config.ts";
import { applyEnvOverrides } from "./env-overrides.ts";

const one = () =>
  parseConfig({
    stacks: [
      {
        name: "dbtunnel-dev",
        region: "us-east-1",
        network: { availabilityZones: ["us-east-1a", "us-east-1b"] },
        database: { iamUsers: ["a"] },
      },
    ],
  });

describe("applyEnvOverrides", () => {
  test("no variables: config unchanged", () => {
    expect(applyEnvOverrides(one(), {})).toEqual(one());
  });

  test("DBTUNNEL_STACK_NAME renames the single stack", () => {
    expect(applyEnvOverrides(one(), { DBTUNNEL_STACK_NAME: "e2e-run-42" }).stacks[0]?.name).toBe(
      "e2e-run-42",
    );
    expect(() => applyEnvOverrides(one(), { DBTUNNEL_STACK_NAME: "Bad Name" })).toThrow(
      /^DBTUNNEL_STACK_NAME: "Bad Name" is not a valid stack name/,
    );
  });

  test("DBTUNNEL_STACK_NAME with several stacks is an error", () => {
    const base = one().stacks[0];
    const two = { ...one(), stacks: [base, { ...base, name: "dbtunnel-prod" }] } as ReturnType<typeof one>;
    expect(() => applyEnvOverrides(two, { DBTUNNEL_STACK_NAME: "x-run" })).toThrow(
      "DBTUNNEL_STACK_NAME: is set but the config has 2 stacks",
    );
  });

  test("DBTUNNEL_DELETION_PROTECTION=false turns protection off; other values are rejected", () => {
    const off = applyEnvOverrides(one(), { DBTUNNEL_DELETION_PROTECTION: "false" }).stacks[0]?.database;
    expect(off?.mode === "create" && off.deletionProtection).toBe(false);
    expect(() => applyEnvOverrides(one(), { DBTUNNEL_DELETION_PROTECTION: "no" })).toThrow(
      'DBTUNNEL_DELETION_PROTECTION: is "no"; use "true" or "false"',
    );
  });
});
