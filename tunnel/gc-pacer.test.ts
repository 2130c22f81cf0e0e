import { expect, test } from "bun:test";
import { GcPacer } from "./gc-pacer.ts";

test("an eden collection per edenEveryBytes of traffic, a full one instead every fullEveryBytes", () => {
  const runs: string[] = [];
  const pacer = new GcPacer({
    edenEveryBytes: 100,
    fullEveryBytes: 400,
    eden: () => runs.push("eden"),
    full: () => runs.push("full"),
  });
  pacer.count(99);
  expect(runs).toEqual([]);
  pacer.count(1);
  expect(runs).toEqual(["eden"]);
  for (let i = 0; i < 30; i++) pacer.count(10);
  expect(runs).toEqual(["eden", "eden", "eden", "full"]);
  expect(pacer.stats).toEqual({ eden: 3, full: 1 });
});

test("the defaults run the runtime's collections without throwing", () => {
  const pacer = new GcPacer({ edenEveryBytes: 1, fullEveryBytes: 2 });
  pacer.count(1);
  pacer.count(1);
  expect(pacer.stats).toEqual({ eden: 1, full: 1 });
});
