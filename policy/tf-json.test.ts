// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform expressions under test
import { describe, expect, test } from "bun:test";
import { effectiveTags, exactReference, field, references, resources } from "./tf-json.ts";

describe("Terraform JSON readers", () => {
  test("exactReference resolves a whole-value reference only", () => {
    expect(exactReference("${aws_security_group.jump_1234.id}")).toEqual({
      address: "aws_security_group.jump_1234",
      attribute: "id",
    });
    expect(exactReference("${data.aws_iam_policy_document.x.json}")).toEqual({
      address: "data.aws_iam_policy_document.x",
      attribute: "json",
    });
    expect(exactReference("arn:${aws_instance.j.arn}")).toBeUndefined();
    expect(exactReference("sg-123")).toBeUndefined();
  });

  test("references finds every address inside larger expressions", () => {
    const refs = references(
      "arn:aws:rds-db:${var.region}:${data.aws_caller_identity.a.account_id}:dbuser:${aws_db_instance.db.resource_id}/u",
    );
    expect(refs.map((r) => r.address)).toEqual(["data.aws_caller_identity.a", "aws_db_instance.db"]);
    expect(references("no expressions")).toEqual([]);
  });

  test("effectiveTags merges provider default_tags under the resource's own tags", () => {
    const tf = {
      provider: { aws: [{ default_tags: [{ tags: { "dbtunnel:stack": "dev", team: "a" } }] }] },
      resource: { aws_instance: { j: { tags: { team: "b", "dbtunnel:role": "jump-host" } } } },
    };
    const [inst] = resources(tf, "aws_instance");
    if (!inst) throw new Error("no instance");
    expect(effectiveTags(tf, inst)).toEqual({
      "dbtunnel:stack": "dev",
      team: "b",
      "dbtunnel:role": "jump-host",
    });
  });

  test("blocks written as arrays (valid Terraform JSON) are read like objects", () => {
    const tf = { resource: [{ aws_vpc: [{ a: [{ cidr_block: "10.0.0.0/16" }] }] }, { aws_vpc: { b: {} } }] };
    expect(resources(tf, "aws_vpc").map((b) => [b.address, b.body.cidr_block])).toEqual([
      ["aws_vpc.a", "10.0.0.0/16"],
      ["aws_vpc.b", undefined],
    ]);
  });

  test("field reads snake_case or the camelCase some provider versions leave in nested blocks", () => {
    expect(field({ days_after_initiation: 7 }, "days_after_initiation")).toBe(7);
    expect(field({ daysAfterInitiation: 7 }, "days_after_initiation")).toBe(7);
  });
});
