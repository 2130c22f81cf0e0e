/**
 * The address a placed task ENI gets (task-eni-placement.ts): one of its subnet, never one AWS reserves
 * (the network's first four and its last) nor one an ENI holds. The ENI itself is tested against moto in
 * ecs-corrections.test.ts.
 */
import { expect, test } from "bun:test";
import { randomFreeAddress } from "./task-eni-placement.ts";

/** A `random()` that returns the values in turn, as a fraction of the subnet's usable range. */
const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] ?? 0;
};

test("the lowest pick is the fifth address, the highest the one before the broadcast", () => {
  expect(randomFreeAddress("10.42.1.0/24", new Set(), () => 0)).toBe("10.42.1.4");
  expect(randomFreeAddress("10.42.1.0/24", new Set(), () => 0.999_999)).toBe("10.42.1.254");
  expect(randomFreeAddress("10.42.0.0/16", new Set(), () => 0.999_999)).toBe("10.42.255.254");
});

test("an address an ENI holds is skipped", () => {
  expect(randomFreeAddress("10.42.1.0/24", new Set(["10.42.1.4"]), sequence(0, 0.5))).toBe("10.42.1.129");
});

test("no address for a subnet smaller than /29, an unreadable CIDR or a subnet that stays full", () => {
  expect(randomFreeAddress("10.42.1.0/30", new Set(), () => 0)).toBeUndefined();
  expect(randomFreeAddress("not-a-cidr", new Set(), () => 0)).toBeUndefined();
  expect(randomFreeAddress("10.42.1.0/24", new Set(["10.42.1.4"]), () => 0)).toBeUndefined();
});
