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
import { s3DenyInsecureTransport as rule } from "./s3-deny-insecure-transport.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "no bucket policy",
    change: (tf) => {
      delete R(tf).aws_s3_bucket_policy;
    },
    resource: "aws_s3_bucket.session_logs",
    message: /plain-HTTP/,
  },
  {
    name: "policy without the TLS deny",
    change: (tf) => {
      tf.data.aws_iam_policy_document.session_logs_tls_only.statement[0].condition = [];
    },
    resource: "aws_s3_bucket_policy.session_logs",
    message: /aws:SecureTransport/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "JSON-string bucket policy",
    change: (tf) => {
      R(tf).aws_s3_bucket_policy.session_logs.policy = JSON.stringify({
        Statement: [
          {
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: ["${aws_s3_bucket.session_logs.arn}/*"],
            Condition: { Bool: { "aws:SecureTransport": false } },
          },
        ],
      });
    },
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
