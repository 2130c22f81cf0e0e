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
import { R } from "../fixtures/stack-edits.ts";
import { defaultSecurityGroupClosed as rule } from "./default-security-group-closed.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "default group with a rule",
    change: (tf) => {
      R(tf).aws_default_security_group.default.ingress = [
        { protocol: "-1", from_port: 0, to_port: 0, self: true },
      ];
    },
    resource: "aws_default_security_group.default",
    message: /has 1 rule/,
  },
  {
    name: "default group not adopted",
    change: (tf) => {
      delete R(tf).aws_default_security_group;
    },
    resource: "aws_vpc.vpc",
    message: /not adopted/,
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
