import { expect, test } from "bun:test";
import type { StepResult } from "../cli/demo/runner.ts";
import { renderJUnit, xml } from "./junit.ts";

const results: StepResult[] = [
  { name: "synth", title: "synthesize", status: "passed", ms: 1500, detail: "45 resources", cleanup: false },
  {
    name: "deploy",
    title: "deploy",
    status: "failed",
    ms: 2500,
    error: 'exit 1: Error: "x" < y & z',
    cleanup: false,
  },
  {
    name: "tunnel",
    title: "tunnel",
    status: "skipped",
    ms: 0,
    detail: "not run: deploy failed",
    cleanup: false,
  },
];

test("one testcase per step with failures and skips CI systems understand", () => {
  const out = renderJUnit([
    {
      name: "dbtunnel e2e (sandbox)",
      results,
      timestamp: "2026-11-21T14:00:00Z",
      properties: { stack: "e2e-1" },
    },
  ]);
  expect(out).toContain('<testsuites name="dbtunnel-e2e" tests="3" failures="1" skipped="1" time="4.000">');
  expect(out).toContain(
    '<testsuite name="dbtunnel e2e (sandbox)" tests="3" failures="1" errors="0" skipped="1" time="4.000"',
  );
  expect(out).toContain(
    'name="synth: synthesize" time="1.500"><system-out>45 resources</system-out></testcase>',
  );
  expect(out).toContain('<failure message="exit 1: Error: &quot;x&quot; &lt; y &amp; z" type="StepFailed">');
  expect(out).toContain('<skipped message="not run: deploy failed"/>');
  expect(out).toContain('<property name="stack" value="e2e-1"/>');
  // Well-formed enough for a strict parser: every opened testcase is closed.
  expect(out.match(/<testcase /g)?.length).toBe(3);
  expect(out.match(/<\/testcase>/g)?.length).toBe(3);
});

test("xml() strips ANSI colours and characters XML 1.0 cannot carry", () => {
  expect(xml("\x1b[31mred\x1b[0m\x07 <ok>")).toBe("red &lt;ok&gt;");
});
