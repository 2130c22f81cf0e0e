import { describe, expect, test } from "bun:test";
import { ecsTargetString } from "./jump-host.ts";

describe("ECS Exec targets", () => {
  test("ecs:<cluster>_<taskId>_<runtimeId>, with the cluster name taken from an ARN", () => {
    expect(ecsTargetString("jump", "0123abcd", "0123abcd-3765917032")).toBe(
      "ecs:jump_0123abcd_0123abcd-3765917032",
    );
    expect(ecsTargetString("arn:aws:ecs:eu-west-1:123456789012:cluster/jump", "t1", "r1")).toBe(
      "ecs:jump_t1_r1",
    );
  });
});
