// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform JSON fixtures are full of ${...} expressions by design
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
import { noAwsManagedPolicies as rule } from "./no-aws-managed-policies.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "AmazonSSMManagedInstanceCore attached",
    change: (tf) => {
      R(tf).aws_iam_role_policy_attachment = {
        core: {
          role: "${aws_iam_role.jumphost.name}",
          policy_arn: "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        },
      };
    },
    resource: "aws_iam_role.jumphost",
    message: /AmazonSSMManagedInstanceCore/,
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
