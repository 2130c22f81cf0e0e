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
import { instanceImdsv2Required as rule } from "./instance-imdsv2-required.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "IMDSv1 allowed",
    change: (tf) => {
      R(tf).aws_instance.jumphost.metadata_options.http_tokens = "optional";
    },
    resource: "aws_instance.jumphost",
    message: /IMDSv1/,
  },
  {
    name: "hop limit 2",
    change: (tf) => {
      R(tf).aws_instance.jumphost.metadata_options.http_put_response_hop_limit = 2;
    },
    resource: "aws_instance.jumphost",
    message: /hop_limit is 2/,
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
