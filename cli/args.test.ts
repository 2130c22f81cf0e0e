import { describe, expect, test } from "bun:test";
import { parseCommandArgs, parsePort } from "./args.ts";
import { UsageError } from "./errors.ts";

const options = { "local-port": { type: "string" }, listen: { type: "boolean" } } as const;

function usage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error("expected a UsageError");
}

describe("parseCommandArgs", () => {
  test("splits at -- and leaves the rest unparsed", () => {
    const parsed = parseCommandArgs(
      ["--listen", "--json", "--", "psql", "--listen", "-c", "x"],
      options,
      "dbtunnel connect",
    );
    expect(parsed.values.listen).toBe(true);
    expect(parsed.values.json).toBe(true);
    expect(parsed.rest).toEqual(["psql", "--listen", "-c", "x"]);
  });

  test("unknown flags, missing values and stray arguments are usage errors (exit 2) naming the culprit", () => {
    const unknown = usage(() => parseCommandArgs(["--nope"], options, "dbtunnel connect"));
    expect(unknown.exitCode).toBe(2);
    expect(unknown.message).toBe(
      "unknown option '--nope' for 'dbtunnel connect' (see 'dbtunnel connect --help')",
    );
    expect(usage(() => parseCommandArgs(["--local-port"], options, "dbtunnel connect")).message).toContain(
      "option '--local-port <value>' needs a value",
    );
    expect(usage(() => parseCommandArgs(["stray"], options, "dbtunnel connect")).message).toContain(
      "unexpected argument 'stray'",
    );
    expect(usage(() => parseCommandArgs(["--listen=yes"], options, "dbtunnel connect")).message).toContain(
      "does not take a value",
    );
  });

  test("ports", () => {
    expect(parsePort("15432", "--local-port", "c")).toBe(15432);
    expect(parsePort(undefined, "--local-port", "c")).toBeUndefined();
    for (const bad of ["0", "65536", "-1", "12a", "1.5", ""]) {
      expect(usage(() => parsePort(bad, "--local-port", "c")).message).toContain(
        "--local-port must be a port number",
      );
    }
  });
});
