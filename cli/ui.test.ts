import { afterEach, describe, expect, test } from "bun:test";
import { clearSecrets, registerSecret } from "./redact.ts";
import { Reporter } from "./ui.ts";

afterEach(clearSecrets);

function capture(options: ConstructorParameters<typeof Reporter>[0]) {
  const out: string[] = [];
  const err: string[] = [];
  const ui = new Reporter({ ...options, stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { ui, out, err };
}

describe("Reporter", () => {
  test("--json: only JSON lines on stdout, nothing on stderr, secrets scrubbed", () => {
    const { ui, out, err } = capture({ json: true, tty: false });
    registerSecret("the-iam-token-value");
    const step = ui.step("find-stack", "finding stack");
    step.progress("still looking");
    step.done("dev");
    ui.info("human text");
    ui.result("connection string");
    ui.warn("careful the-iam-token-value");
    ui.error("failed", "Code");
    expect(err).toEqual([]);
    const events = out.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(out.every((line) => line.endsWith("\n") && !line.slice(0, -1).includes("\n"))).toBe(true);
    expect(events.map((e) => `${e.type}:${e.status ?? ""}`)).toEqual([
      "step:started",
      "step:progress",
      "step:done",
      "warning:",
      "error:",
    ]);
    expect(JSON.stringify(events)).not.toContain("the-iam-token-value");
  });

  test("human mode: steps on stderr without colour when not a TTY; result on stdout", () => {
    const { ui, out, err } = capture({ tty: false });
    const step = ui.step("open-session", "opening session");
    step.done("s-123");
    ui.result("host=x");
    expect(err.join("")).toBe("› opening session…\n✓ opening session (s-123)\n");
    expect(out).toEqual(["host=x\n"]);
  });

  test("on a TTY a step's line is rewritten in place by progress and result", () => {
    const { ui, err } = capture({ tty: true, color: false });
    const step = ui.step("start-jump-host", "starting jump host");
    step.progress("pending");
    step.done("started");
    expect(err.join("")).toBe(
      "› starting jump host…\r\x1b[K› starting jump host… pending\r\x1b[K✓ starting jump host (started)\n",
    );
  });

  test("colour only on a TTY and never with NO_COLOR", () => {
    const previous = process.env.NO_COLOR;
    try {
      process.env.NO_COLOR = "1";
      const { ui, err } = capture({ tty: true });
      ui.error("x", "E");
      expect(err.join("")).not.toContain("\x1b[");
      delete process.env.NO_COLOR;
      const colored = capture({ tty: true });
      colored.ui.error("x", "E");
      expect(colored.err.join("")).toContain("\x1b[31m");
    } finally {
      if (previous === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = previous;
    }
  });

  test("stack traces only with --verbose", () => {
    const quiet = capture({ tty: false });
    quiet.ui.error("boom", "E", "Error: boom\n    at x");
    expect(quiet.err.join("")).toBe("dbtunnel: boom\n");
    const verbose = capture({ tty: false, verbose: true });
    verbose.ui.error("boom", "E", "Error: boom\n    at x");
    expect(verbose.err.join("")).toContain("    at x");
  });
});
