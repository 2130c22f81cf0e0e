import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError } from "./errors.ts";
import { dbtunnelStacks, readOutputsFile, targetFromOutputs } from "./outputs.ts";

const dir = mkdtempSync(join(tmpdir(), "dbtunnel-outputs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sampleOutputs = {
  stack_name: "dev",
  region: "eu-west-1",
  jump_host_kind: "ec2",
  jump_host_instance_id: "i-0123456789abcdef0",
  ecs_cluster: "",
  ecs_service: "",
  db_engine: "postgres",
  db_identifier: "dev-db",
  db_endpoint: "dev-db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com",
  db_port: 5432,
  db_resource_id: "db-ABCDEFGHIJKL",
  db_name: "app",
  db_iam_users: ["app_ro", "app_rw"],
  db_master_username: "master",
  db_master_secret_arn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1",
  engineer_policy_arn: "arn:aws:iam::123456789012:policy/dev-engineer",
};

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return (error as Error).message;
  }
  throw new Error("expected a CliError");
}

describe("outputs file", () => {
  test("maps the contract's outputs to a target", () => {
    const target = targetFromOutputs("dev", sampleOutputs, "out.json");
    expect(target).toMatchObject({
      stackName: "dev",
      region: "eu-west-1",
      jumpHost: { kind: "ec2", instanceId: "i-0123456789abcdef0" },
      db: {
        engine: "postgres",
        endpoint: sampleOutputs.db_endpoint,
        port: 5432,
        name: "app",
        iamUsers: ["app_ro", "app_rw"],
      },
      engineerPolicyArn: sampleOutputs.engineer_policy_arn,
      source: "outputs",
    });
  });

  test("ECS jump hosts use cluster and service", () => {
    const target = targetFromOutputs(
      "dev",
      {
        ...sampleOutputs,
        jump_host_kind: "ecs",
        jump_host_instance_id: "",
        ecs_cluster: "c",
        ecs_service: "s",
      },
      "out.json",
    );
    expect(target.jumpHost).toEqual({ kind: "ecs", cluster: "c", service: "s" });
  });

  test("accepts terraform-style {value} wrappers and string ports", () => {
    const wrapped = Object.fromEntries(
      Object.entries(sampleOutputs).map(([k, v]) => [k, { value: v, type: "string" }]),
    );
    wrapped.db_port = { value: "5432", type: "string" };
    expect(targetFromOutputs("dev", wrapped, "o.json").db.port).toBe(5432);
  });

  test("a missing output is named with the fix", () => {
    const { db_endpoint: _, ...rest } = sampleOutputs;
    expect(message(() => targetFromOutputs("dev", rest, "o.json"))).toBe(
      "Output 'db_endpoint' is missing from stack 'dev' in o.json: regenerate it with 'cdktf output --outputs-file o.json'.",
    );
  });

  test("bad values are refused one by one", () => {
    expect(
      message(() => targetFromOutputs("dev", { ...sampleOutputs, db_engine: "oracle" }, "o.json")),
    ).toContain("'db_engine'");
    expect(message(() => targetFromOutputs("dev", { ...sampleOutputs, db_port: 70000 }, "o.json"))).toContain(
      "'db_port'",
    );
    expect(
      message(() => targetFromOutputs("dev", { ...sampleOutputs, jump_host_kind: "vm" }, "o.json")),
    ).toContain("'jump_host_kind'");
    expect(
      message(() => targetFromOutputs("dev", { ...sampleOutputs, db_endpoint: "h:5432" }, "o.json")),
    ).toContain("hostname");
  });

  test("reading: missing file, bad JSON, wrong shape, and stack listing", () => {
    expect(message(() => readOutputsFile(join(dir, "nope.json")))).toContain("does not exist");
    writeFileSync(join(dir, "bad.json"), "{not json");
    expect(message(() => readOutputsFile(join(dir, "bad.json")))).toContain("not valid JSON");
    writeFileSync(join(dir, "shape.json"), "[1,2]");
    expect(message(() => readOutputsFile(join(dir, "shape.json")))).toContain("not a cdktf outputs file");
    writeFileSync(
      join(dir, "ok.json"),
      JSON.stringify({ dev: sampleOutputs, other: { foo: 1 }, prod: sampleOutputs }),
    );
    expect(dbtunnelStacks(readOutputsFile(join(dir, "ok.json")))).toEqual(["dev", "prod"]);
  });
});
