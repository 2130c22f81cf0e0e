import { expect, test } from "bun:test";
import { inCidr } from "./ecs-target.ts";

test("inCidr: an address is in a block by its prefix, malformed input is in nothing", () => {
  expect(inCidr("10.41.3.17", "10.41.0.0/16")).toBe(true);
  expect(inCidr("10.41.3.17", "10.41.2.0/24")).toBe(false);
  expect(inCidr("10.160.12.116", "10.41.0.0/16")).toBe(false);
  expect(inCidr("0.0.0.0", "0.0.0.0/0")).toBe(true);
  for (const [address, cidr] of [
    ["10.41.3", "10.41.0.0/16"],
    ["10.41.3.256", "10.41.0.0/16"],
    ["10.41.3.1", "10.41.0.0/33"],
    ["10.41.3.1", "10.41.0.0"],
  ] as const) {
    expect(inCidr(address, cidr)).toBe(false);
  }
});
