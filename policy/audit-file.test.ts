import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { auditFile } from "./audit-file.ts";
import { PolicyError } from "./evaluate.ts";
import { NOISE_SUPPRESSIONS, secureStack } from "./fixtures/secure-stack.ts";

const dir = mkdtempSync(join(tmpdir(), "dbtunnel-auditfile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectOneLineError(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(PolicyError);
  expect((caught as Error).message).toMatch(message);
  expect((caught as Error).message).not.toContain("\n");
}

describe("auditFile", () => {
  test("a missing file names the path and says to synth first", () => {
    expectOneLineError(
      () => auditFile(join(dir, "nope.json")),
      /nope\.json: file not found; run "cdktf synth" first/,
    );
  });

  test("a file that is not JSON", () => {
    const f = join(dir, "broken.json");
    writeFileSync(f, '{ "resource": ');
    expectOneLineError(
      () => auditFile(f),
      /broken\.json is not valid JSON \(.+\); pass a synthesized cdk\.tf\.json/,
    );
  });

  test("JSON that is not Terraform", () => {
    const f = join(dir, "package.json");
    writeFileSync(f, JSON.stringify({ name: "x", version: "1.0.0" }));
    expectOneLineError(() => auditFile(f), /package\.json is not Terraform JSON/);
    const arr = join(dir, "array.json");
    writeFileSync(arr, "[1,2]");
    expectOneLineError(() => auditFile(arr), /array\.json is not Terraform JSON/);
  });

  test("a stack directory is read through its cdk.tf.json", () => {
    const stackDir = join(dir, "stacks", "dev");
    mkdirSync(stackDir, { recursive: true });
    writeFileSync(join(stackDir, "cdk.tf.json"), JSON.stringify(secureStack()));
    expect(auditFile(stackDir, { suppressions: NOISE_SUPPRESSIONS }).violations).toEqual([]);
  });

  test("a directory without cdk.tf.json", () => {
    expectOneLineError(() => auditFile(join(dir, "stacks")), /is a directory without cdk\.tf\.json/);
  });

  test("suppressions are validated for files too", () => {
    const f = join(dir, "ok.cdk.tf.json");
    writeFileSync(f, JSON.stringify(secureStack()));
    expectOneLineError(
      () => auditFile(f, { suppressions: [{ ruleId: "CKV_AWS_157", reason: "" }] }),
      /CKV_AWS_157 has no reason/,
    );
  });

  test("suppressions recorded in the file apply together with the caller's", () => {
    const tf = secureStack();
    tf["//"] = { dbtunnel_policy_suppressions: [{ ruleId: "CKV_AWS_157", reason: "dev profile" }] };
    const f = join(dir, "embedded.cdk.tf.json");
    writeFileSync(f, JSON.stringify(tf));
    expect(auditFile(f).violations.map((v) => v.ruleId)).toEqual(["CKV_AWS_18"]);
    expect(
      auditFile(f, { suppressions: [{ ruleId: "CKV_AWS_18", reason: "log bucket" }] }).violations,
    ).toEqual([]);
  });

  test("a recorded suppression without a reason or in the wrong shape is an error", () => {
    const tf = secureStack();
    tf["//"] = { dbtunnel_policy_suppressions: [{ ruleId: "CKV_AWS_157" }] };
    const f = join(dir, "embedded-bad.cdk.tf.json");
    writeFileSync(f, JSON.stringify(tf));
    expectOneLineError(() => auditFile(f), /CKV_AWS_157 has no reason/);
    tf["//"] = { dbtunnel_policy_suppressions: "CKV_AWS_157" };
    writeFileSync(f, JSON.stringify(tf));
    expectOneLineError(() => auditFile(f), /must be a list of \{"ruleId", "reason"\}/);
  });
});
