import { describe, expect, test } from "bun:test";
import { compareAgentVersions, decidePortMode } from "./version.ts";

describe("compareAgentVersions (agent side)", () => {
  test.each([
    ["1.2.677.0", "1.1.70", 1],
    ["1.1.70", "1.1.70", 0],
    ["1.1.69.9", "1.1.70", -1],
    ["1.1.70.0", "1.1.70", 1], // the longer version is larger when one is a prefix of the other
    ["1.2.331.0", "1.2.331.0", 0],
    ["1.10.0.0", "1.9.0.0", 1], // numeric, not text
    ["", "1.1.70", -1],
  ])("%s vs %s → %d", (a, b, expected) => {
    expect(compareAgentVersions(a, b)).toBe(expected);
  });
});

describe("decidePortMode", () => {
  test.each([
    ["3.3.987.0", "1.2.677.0", true, false],
    ["3.3.987.0", "1.2.331.0", true, true], // not greater than 1.2.331.0 → keepalive stays on
    ["3.3.987.0", "1.2.332.0", true, false],
    ["3.3.987.0", "1.1.70", true, true],
    ["3.3.987.0", "1.1.69", false, false],
    ["3.1.1511.0", "1.2.677.0", true, true], // agents ≤ 3.1.1511.0 always keep alive
    ["3.1.1512.0", "1.2.677.0", true, false],
    ["3.0.196.0", "1.2.677.0", false, false], // the client picks basic for ≤ 3.0.196.0
    ["3.0.197.0", "1.2.677.0", true, true],
  ])("agent %s, client %s → mux %p keepalive %p", (agent, client, mux, keepalive) => {
    expect(decidePortMode(agent, client, "LocalPortForwarding")).toEqual({ mux, keepalive });
  });

  test("a session type other than LocalPortForwarding is never mux", () => {
    expect(decidePortMode("3.3.987.0", "1.2.677.0", "Standard_Stream").mux).toBe(false);
  });
});
