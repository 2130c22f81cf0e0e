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
import { s3KmsEncryption as rule } from "./s3-kms-encryption.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "SSE-S3 instead of KMS",
    change: (tf) => {
      R(tf).aws_s3_bucket_server_side_encryption_configuration.session_logs.rule = [
        { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
      ];
    },
    resource: "aws_s3_bucket.session_logs",
    message: /AES256/,
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
