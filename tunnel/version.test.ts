import { describe, expect, test } from "bun:test";
import { CLIENT_VERSION, cliUsesEnvMode, isVersionGreater, selectMode } from "./version.ts";

describe("isVersionGreater (plugin semantics, §10.1)", () => {
  const table: [string, string, boolean][] = [
    ["3.3.987.0", "3.0.196.0", true],
    ["3.0.196.0", "3.0.196.0", false],
    ["3.0.196.1", "3.0.196.0", true],
    ["3.0.195.9", "3.0.196.0", false],
    ["3.0.1000.0", "3.0.196.0", true], // numeric, not text comparison
    ["10.0.0.0", "9.9.9.9", true],
    ["3.3.987", "3.0.196.0", false], // different component count → not greater
    ["3.3.987.0.1", "3.0.196.0", false],
    ["3.x.987.0", "3.0.196.0", false], // non-integer component → not greater
    ["", "3.0.196.0", false],
    ["3.1.1511.0", "3.1.1511.0", false],
    ["3.1.1512.0", "3.1.1511.0", true],
    ["1.2.677.0", "1.2.331.0", true],
  ];
  for (const [a, b, expected] of table) {
    test(`${a} > ${b} is ${expected}`, () => expect(isVersionGreater(a, b)).toBe(expected));
  }
});

describe("selectMode", () => {
  test("current agents: mux without keepalive", () => {
    expect(selectMode("3.3.987.0")).toEqual({ mode: "mux", keepalive: false, terminateFlag: true });
  });
  test("agents between 3.0.196.0 and 3.1.1511.0: mux with keepalive NOPs", () => {
    expect(selectMode("3.1.0.0")).toEqual({ mode: "mux", keepalive: true, terminateFlag: true });
    expect(selectMode("3.1.1511.0")).toEqual({ mode: "mux", keepalive: true, terminateFlag: true });
  });
  test("old agents: basic", () => {
    expect(selectMode("3.0.0.0")).toEqual({ mode: "basic", keepalive: false, terminateFlag: true });
    expect(selectMode("3.0.196.0").mode).toBe("basic");
    expect(selectMode("2.3.722.0")).toEqual({ mode: "basic", keepalive: false, terminateFlag: false });
  });
  test("a 3-component agent version is never 'greater', so it selects basic", () => {
    expect(selectMode("3.3.987").mode).toBe("basic");
  });
});

describe("client version", () => {
  test("has 4 components, is above 1.2.331.0 (keepalive off) and puts the AWS CLI in env mode", () => {
    expect(CLIENT_VERSION.split(".")).toHaveLength(4);
    expect(isVersionGreater(CLIENT_VERSION, "1.2.331.0")).toBe(true);
    expect(cliUsesEnvMode(`${CLIENT_VERSION}\n`)).toBe(true);
    expect(cliUsesEnvMode("1.2.497.0")).toBe(false);
    expect(cliUsesEnvMode("1.3")).toBe(true);
    expect(cliUsesEnvMode("garbage")).toBe(false);
  });
});
