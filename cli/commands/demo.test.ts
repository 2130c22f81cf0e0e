/**
 * The demo's flow is the e2e flow (proven once, by e2e/stack.e2e.test.ts, so the suite applies only once);
 * here: its argument handling and how it presents steps.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig } from "../../stacks/config.ts";
import { planFor } from "../demo/flow.ts";
import { PROJECT_ROOT } from "../demo/terraform.ts";
import { DEMO_VARIANT_NAMES, DEMO_VARIANTS } from "../demo/variants.ts";
import { UsageError } from "../errors.ts";
import { Reporter } from "../ui.ts";
import { DemoReporter, demoVariant, help, run } from "./demo.ts";

function capture(json: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const ui = new Reporter({
    json,
    tty: false,
    color: false,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
  });
  return { ui, out, err };
}

test("unknown options are a usage error naming the option", async () => {
  const { ui } = capture(false);
  const ctx = { ui, signal: new AbortController().signal };
  await expect(run(["--bogus"], ctx)).rejects.toBeInstanceOf(UsageError);
  await expect(run(["--bogus"], ctx)).rejects.toThrow("unknown option '--bogus' for 'dbtunnel demo'");
});

test("help documents --keep and Ctrl-C behaviour", () => {
  expect(help).toContain("--keep");
  expect(help).toContain("Ctrl-C");
});

test("human mode: one line per step with its duration and evidence indented", () => {
  const { ui, err, out } = capture(false);
  const r = new DemoReporter(ui);
  r.started("deploy", "deploy (cdktf deploy)");
  r.progress("deploy", "12/45 created");
  r.note("✓ jump host has no public IP");
  r.finished({
    name: "deploy",
    title: "deploy (cdktf deploy)",
    status: "passed",
    detail: "45/45 created",
    ms: 183_000,
  });
  r.finished({
    name: "leftovers",
    title: "leftovers",
    status: "skipped",
    detail: "nothing was deployed",
    ms: 0,
  });
  const text = err.join("");
  expect(text).toContain("› deploy (cdktf deploy)…");
  expect(text).toContain("    ✓ jump host has no public IP");
  expect(text).toContain("✓ deploy (cdktf deploy) (45/45 created; 183.0 s)");
  expect(text).not.toContain("leftovers");
  expect(out).toEqual([]);
});

test("json mode: step events on stdout, progress throttled, nothing on stderr", () => {
  const { ui, out, err } = capture(true);
  const r = new DemoReporter(ui);
  r.started("deploy", "deploy");
  r.progress("deploy", "1/45 created");
  r.progress("deploy", "2/45 created"); // within 5 s of the first: dropped
  r.finished({ name: "deploy", title: "deploy", status: "failed", error: "cdktf deploy exited 1", ms: 1000 });
  const events = out.map((line) => JSON.parse(line) as { status: string; detail?: string });
  expect(events.map((e) => e.status)).toEqual(["started", "progress", "failed"]);
  expect(events[1]?.detail).toBe("1/45 created");
  expect(events[2]?.detail).toBe("cdktf deploy exited 1; 1.0 s");
  expect(err).toEqual([]);
  r.stopSpinner();
});

test("the sandbox's own log lines (a session terminated...) stay out of the demo's output unless --verbose", () => {
  const { ui, err } = capture(false);
  const r = new DemoReporter(ui);
  r.note("sandbox: session dbtunnel-sandbox-0123 terminated: client TerminateSession");
  r.note("✓ no ingress rule anywhere");
  const text = err.join("");
  expect(text).not.toContain("terminated");
  expect(text).toContain("✓ no ingress rule anywhere");
  const verbose = new Reporter({
    json: false,
    verbose: true,
    tty: false,
    color: false,
    stdout: () => {},
    stderr: (t) => err.push(t),
  });
  new DemoReporter(verbose).note("sandbox: session x terminated: done");
  expect(err.join("")).toContain("session x terminated");
});

test("--variant: the help lists every variant; an unknown one is a usage error naming the valid ones", async () => {
  expect(help).toContain("--variant <name>");
  for (const name of DEMO_VARIANT_NAMES) expect(help).toContain(name);
  expect(help).toContain("npm run demo -- --variant ecs-mysql");
  expect(demoVariant(undefined)).toBe("default");
  expect(demoVariant("ecs-mysql")).toBe("ecs-mysql");
  const { ui } = capture(false);
  const ctx = { ui, signal: new AbortController().signal };
  await expect(run(["--variant", "oracle"], ctx)).rejects.toBeInstanceOf(UsageError);
  await expect(run(["--variant", "oracle"], ctx)).rejects.toThrow(
    "unknown demo variant 'oracle': use one of default, ecs-mysql",
  );
  expect(() => demoVariant("__proto__")).toThrow(UsageError);
});

test("every variant's configuration loads and names the engine and jump host it promises", () => {
  const ecs = loadConfig(join(PROJECT_ROOT, DEMO_VARIANTS["ecs-mysql"].configFile)).stacks[0];
  expect(ecs?.jumpHost.kind).toBe("ecs");
  expect(ecs?.database.engine).toBe("mysql");
  const pg = loadConfig(join(PROJECT_ROOT, DEMO_VARIANTS.default.configFile)).stacks[0];
  expect(pg?.jumpHost.kind).toBe("ec2");
  expect(pg?.database.engine).toBe("postgres");
});

test("the demo plans the in-process steps of the variant's engine", () => {
  const names = (protocol: "postgres" | "mysql") =>
    planFor("sandbox", undefined, protocol).map((s) => s.name);
  expect(names("postgres")).toContain("iam-hostaddr");
  expect(names("mysql")).toContain("iam-private-hosts");
  expect(names("mysql")).not.toContain("iam-hostaddr");
});
