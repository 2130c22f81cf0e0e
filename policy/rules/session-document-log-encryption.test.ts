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
import { sessionInputs } from "../fixtures/stack-edits.ts";
import { sessionDocumentLogEncryption as rule } from "./session-document-log-encryption.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "S3 logs unencrypted",
    change: (tf) => sessionInputs(tf, (i) => (i.s3EncryptionEnabled = false)),
    resource: "aws_ssm_document.session_preferences",
    message: /s3EncryptionEnabled/,
  },
  {
    name: "no logging",
    change: (tf) =>
      sessionInputs(tf, (i) => {
        delete i.s3BucketName;
        delete i.cloudWatchLogGroupName;
      }),
    resource: "aws_ssm_document.session_preferences",
    message: /neither to S3 nor to CloudWatch/,
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
