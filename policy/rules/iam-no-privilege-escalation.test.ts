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
import { jumpRolePolicy, setEngineerPolicy } from "../fixtures/stack-edits.ts";
import { iamNoPrivilegeEscalation as rule } from "./iam-no-privilege-escalation.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "iam:PassRole on *",
    change: (tf) =>
      setEngineerPolicy(tf, (d) =>
        d.Statement.push({ Effect: "Allow", Action: "iam:PassRole", Resource: "*" }),
      ),
    resource: "aws_iam_policy.engineer",
    message: /iam:PassRole on \* \(privilege escalation\)/,
  },
  {
    name: "ecr:GetAuthorizationToken on * (credential exposure; ECS images in public registries do not need it)",
    change: (tf) =>
      jumpRolePolicy(tf, [{ Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }]),
    resource: "aws_iam_role.jumphost",
    message: /credentials exposure/,
  },
  {
    name: "secretsmanager:* on *",
    change: (tf) => jumpRolePolicy(tf, [{ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }]),
    resource: "aws_iam_role.jumphost",
    message: /secretsmanager:GetSecretValue on \* \(data exfiltration\)/,
  },
];

const COMPLIANT: CompliantVariant[] = [];

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
