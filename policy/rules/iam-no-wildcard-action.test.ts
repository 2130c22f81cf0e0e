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
import { R, setEngineerPolicy } from "../fixtures/stack-edits.ts";
import { iamNoWildcardAction as rule } from "./iam-no-wildcard-action.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "admin statement",
    change: (tf) =>
      setEngineerPolicy(tf, (d) => d.Statement.push({ Effect: "Allow", Action: "*", Resource: "*" })),
    resource: "aws_iam_policy.engineer",
    message: /allows \*/,
  },
  {
    name: "policy built with jsonencode",
    change: (tf) => {
      R(tf).aws_iam_policy.engineer.policy = '${jsonencode({"Statement" = []})}';
    },
    resource: "aws_iam_policy.engineer",
    message: /cannot be verified/,
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
