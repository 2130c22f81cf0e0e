import { describe, expect, test } from "bun:test";
import { FlowError, type FlowReporter, FlowRun, formatMs, type StepResult } from "./runner.ts";

const plan = [
  { name: "a", title: "first" },
  { name: "b", title: "second" },
  { name: "c", title: "third" },
  { name: "clean", title: "cleanup" },
];

function recorder() {
  const events: string[] = [];
  const reporter: FlowReporter = {
    started: (name) => events.push(`start ${name}`),
    progress: (name, detail) => events.push(`progress ${name} ${detail}`),
    finished: (r: StepResult) => events.push(`${r.status} ${r.name}`),
    note: (text) => events.push(`note ${text}`),
  };
  return { events, reporter };
}

describe("FlowRun", () => {
  test("runs steps in order and returns results in plan order", async () => {
    const { events, reporter } = recorder();
    const run = new FlowRun(plan, reporter);
    await run.step("a", async (ctx) => {
      ctx.progress("halfway");
      return "did a";
    });
    await run.step("b", async () => undefined);
    await run.step("c", async () => "did c");
    await run.cleanup("clean", async () => "cleaned");
    const results = run.finish();
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ["a", "passed"],
      ["b", "passed"],
      ["c", "passed"],
      ["clean", "passed"],
    ]);
    expect(results[0]?.detail).toBe("did a");
    expect(events).toContain("progress a halfway");
  });

  test("a failure stops the main line, cleanup still runs, unrun steps are skipped with the reason", async () => {
    const { reporter } = recorder();
    const run = new FlowRun(plan, reporter);
    let cleaned = false;
    try {
      await run.step("a", async () => "ok");
      await run.step("b", async () => {
        throw new Error("boom\nsecond line that must not appear");
      });
      await run.step("c", async () => "never");
    } catch {
      // expected
    } finally {
      await run.cleanup("clean", async () => {
        cleaned = true;
        return "ok";
      });
    }
    expect(cleaned).toBe(true);
    let error: unknown;
    try {
      run.finish();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FlowError);
    const message = (error as FlowError).message;
    expect(message).toBe("step 'b' failed: boom; cleanup: clean ok");
    const c = (error as FlowError).results.find((r) => r.name === "c");
    expect(c?.status).toBe("skipped");
    expect(c?.detail).toBe("not run: b failed");
    expect((error as FlowError).results.map((r) => r.name)).toEqual(["a", "b", "c", "clean"]);
  });

  test("a failing cleanup fails the run even when every main step passed", async () => {
    const { reporter } = recorder();
    const run = new FlowRun(plan.slice(0, 1).concat(plan.slice(3)), reporter);
    await run.step("a", async () => "ok");
    expect(await run.cleanup("clean", async () => Promise.reject(new Error("3 resources left")))).toBe(false);
    expect(() => run.finish()).toThrow("cleanup failed: clean: 3 resources left");
  });

  test("a failed check is recorded but the main line goes on; finish() names every failure", async () => {
    const { reporter } = recorder();
    const run = new FlowRun(plan, reporter);
    await run.check("a", async () => Promise.reject(new Error("perpetual diff")));
    await run.step("b", async () => "still runs");
    await run.step("c", async () => Promise.reject(new Error("tunnel broke"))).catch(() => {});
    await run.cleanup("clean", async () => "ok");
    expect(() => run.finish()).toThrow(
      "step 'a' failed: perpetual diff; also failed: c (tunnel broke); cleanup: clean ok",
    );
    expect(run.results.map((r) => r.status)).toEqual(["failed", "passed", "failed", "passed"]);
  });

  test("after a main step failed, neither steps nor checks run", async () => {
    const { reporter } = recorder();
    const run = new FlowRun(plan, reporter);
    await run.step("a", async () => Promise.reject(new Error("deploy failed"))).catch(() => {});
    await expect(run.check("b", async () => "no")).rejects.toThrow("called after a failed");
  });

  test("an aborted signal fails the next step as interrupted", async () => {
    const { reporter } = recorder();
    const controller = new AbortController();
    const run = new FlowRun(plan, reporter, controller.signal);
    await run.step("a", async () => "ok");
    controller.abort();
    let ran = false;
    await expect(
      run.step("b", async () => {
        ran = true;
        return "no";
      }),
    ).rejects.toThrow("interrupted");
    expect(ran).toBe(false);
    expect(() => run.finish()).toThrow("step 'b' failed: interrupted (Ctrl-C)");
  });

  test("cleanup steps get a signal that never aborts, so destroy is not cut short by Ctrl-C", async () => {
    const { reporter } = recorder();
    const controller = new AbortController();
    controller.abort();
    const run = new FlowRun(plan, reporter, controller.signal);
    let aborted: boolean | undefined;
    await run.cleanup("clean", async (ctx) => {
      aborted = ctx.signal.aborted;
      return "ok";
    });
    expect(aborted).toBe(false);
  });
});

test("formatMs", () => {
  expect(formatMs(12)).toBe("12 ms");
  expect(formatMs(12_340)).toBe("12.3 s");
  expect(formatMs(185_000)).toBe("3 min 5 s");
});
