import { expect, test } from "bun:test";
import { retryDelays, withRetry } from "./retry.ts";

test("delays double from a random 100-199 ms start and restart at the start beyond 5 s", () => {
  expect(retryDelays(5, () => 0)).toEqual([100, 200, 400, 800, 1600]);
  expect(retryDelays(8, () => 0.999)).toEqual([199, 398, 796, 1592, 3184, 199, 398, 796]);
});

test("withRetry makes 6 calls at most and rethrows the last error", async () => {
  let calls = 0;
  const slept: number[] = [];
  const failing = withRetry(
    async () => {
      calls++;
      throw new Error(`fail ${calls}`);
    },
    { random: () => 0, sleep: async (ms) => void slept.push(ms) },
  );
  await expect(failing).rejects.toThrow("fail 6");
  expect(calls).toBe(6);
  expect(slept).toEqual([100, 200, 400, 800, 1600]);
});

test("withRetry returns the first success and stops early when told", async () => {
  let calls = 0;
  expect(
    await withRetry(async () => (++calls < 3 ? Promise.reject(new Error("x")) : "ok"), {
      sleep: async () => {},
    }),
  ).toBe("ok");
  expect(calls).toBe(3);
  let stop = false;
  calls = 0;
  const stopped = withRetry(
    async () => {
      calls++;
      stop = true;
      throw new Error("stopped");
    },
    { sleep: async () => {}, stopped: () => stop },
  );
  await expect(stopped).rejects.toThrow("stopped");
  expect(calls).toBe(1);
});
