import { expect, test } from "bun:test";
import { createPrng } from "./prng.ts";

test("the same seed gives the same sequence, another seed another", () => {
  const draw = (seed: number) => {
    const prng = createPrng(seed);
    return Array.from({ length: 8 }, () => prng.next());
  };
  expect(draw(42)).toEqual(draw(42));
  expect(draw(42)).not.toEqual(draw(43));
  expect(draw(1).every((x) => x >= 0 && x < 1)).toBe(true);
});

test("chance() honours the rate and spends no draw on 0 or undefined", () => {
  const prng = createPrng(7);
  const reference = createPrng(7);
  expect(prng.chance(0)).toBe(false);
  expect(prng.chance(undefined)).toBe(false);
  expect(prng.next()).toBe(reference.next());
  expect(prng.chance(1)).toBe(true);
  let hits = 0;
  for (let i = 0; i < 10_000; i++) if (prng.chance(0.25)) hits++;
  expect(hits).toBeGreaterThan(2200);
  expect(hits).toBeLessThan(2800);
});

test("a random seed is reported so a run can be replayed", () => {
  const first = createPrng();
  const replay = createPrng(first.seed);
  expect(first.next()).toBe(replay.next());
});
