import { describe, test } from "bun:test";
import {
  type CompliantVariant,
  expectCompliant,
  expectNotApplicable,
  expectSecureStackPasses,
  expectViolation,
  type NonCompliantCase,
} from "../fixtures/expect-rule.ts";
import { secureStackWith } from "../fixtures/secure-stack.ts";
import { jumpRolePolicy } from "../fixtures/stack-edits.ts";
import { iamNoWildcardResource as rule } from "./iam-no-wildcard-resource.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "s3:GetObject on *",
    change: (tf) =>
      jumpRolePolicy(tf, [
        { Effect: "Allow", Action: ["s3:GetObject", "ssm:UpdateInstanceInformation"], Resource: "*" },
      ]),
    resource: "aws_iam_role.jumphost",
    message: /allows s3:GetObject on \*/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "ecr:GetAuthorizationToken has no resource-level permission",
    change: (tf) =>
      jumpRolePolicy(tf, [{ Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }]),
  },
];

describe(`${rule.id} ${rule.description}`, () => {
  test("compliant: the secure stack", () => {
    expectSecureStackPasses(rule.id);
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
