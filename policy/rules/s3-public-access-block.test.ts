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
import { s3PublicAccessBlock as rule } from "./s3-public-access-block.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "public policies allowed",
    change: (tf) => {
      R(tf).aws_s3_bucket_public_access_block.session_logs.block_public_policy = false;
    },
    resource: "aws_s3_bucket_public_access_block.session_logs",
    message: /block_public_policy/,
  },
  {
    name: "no public access block",
    change: (tf) => {
      delete R(tf).aws_s3_bucket_public_access_block;
    },
    resource: "aws_s3_bucket.session_logs",
    message: /no aws_s3_bucket_public_access_block/,
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
