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
import { kmsKeyPolicy as rule } from "./kms-key-policy.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "no key policy",
    change: (tf) => {
      delete R(tf).aws_kms_key.key.policy;
    },
    resource: "aws_kms_key.key",
    message: /no explicit key policy/,
  },
  {
    name: "open principal",
    change: (tf) => {
      R(tf).aws_kms_key.key.policy = JSON.stringify({
        Statement: [{ Effect: "Allow", Principal: "*", Action: "kms:Decrypt", Resource: "*" }],
      });
    },
    resource: "aws_kms_key.key",
    message: /Principal \* without conditions/,
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
