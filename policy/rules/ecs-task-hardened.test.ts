// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform JSON fixtures are full of ${...} expressions by design
import { describe, test } from "bun:test";
import {
  type CompliantVariant,
  expectCompliant,
  expectNotApplicable,
  expectViolation,
  type NonCompliantCase,
} from "../fixtures/expect-rule.ts";
import { secureStack, secureStackWith } from "../fixtures/secure-stack.ts";
import { ecsJumpHost, R } from "../fixtures/stack-edits.ts";
import { ecsTaskHardened as rule } from "./ecs-task-hardened.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "privileged container",
    change: (tf) => {
      ecsJumpHost(tf);
      const defs = JSON.parse(R(tf).aws_ecs_task_definition.jump.container_definitions);
      defs[0].privileged = true;
      R(tf).aws_ecs_task_definition.jump.container_definitions = JSON.stringify(defs);
    },
    resource: "aws_ecs_task_definition.jump",
    message: /container agent is privileged/,
  },
  {
    name: "host PID and shared roles",
    change: (tf) => {
      ecsJumpHost(tf);
      Object.assign(R(tf).aws_ecs_task_definition.jump, {
        pid_mode: "host",
        execution_role_arn: "${aws_iam_role.jumphost.arn}",
      });
    },
    resource: "aws_ecs_task_definition.jump",
    message: /pid_mode = "host"; execution_role_arn equals task_role_arn/,
  },
];

const COMPLIANT: CompliantVariant[] = [{ name: "hardened ECS task", change: ecsJumpHost }];

describe(`${rule.id} ${rule.description}`, () => {
  test("not-applicable: the secure stack (its jump host is EC2); compliant on the ECS variants below", () => {
    expectNotApplicable(rule.id, secureStack());
  });
  for (const c of COMPLIANT) {
    test(`compliant: ${c.name}`, () => {
      expectCompliant(rule.id, secureStackWith(c.change));
    });
  }
  for (const c of NON_COMPLIANT) {
    test(`non-compliant: ${c.name}`, () => {
      expectViolation(rule.id, secureStackWith(c.change), c.resource, c.message);
    });
  }
  test("not-applicable: a stack with nothing the rule is about", () => {
    expectNotApplicable(rule.id, { resource: {} });
  });
});
