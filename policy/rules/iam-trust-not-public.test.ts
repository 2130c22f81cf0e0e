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
import { iamTrustNotPublic as rule } from "./iam-trust-not-public.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "anyone may assume the role",
    change: (tf) => {
      R(tf).aws_iam_role.jumphost.assume_role_policy = JSON.stringify({
        Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }],
      });
    },
    resource: "aws_iam_role.jumphost",
    message: /anyone/,
  },
  {
    name: "whole account without conditions",
    change: (tf) => {
      R(tf).aws_iam_role.jumphost.assume_role_policy = JSON.stringify({
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::123456789012:root" },
            Action: "sts:AssumeRole",
          },
        ],
      });
    },
    resource: "aws_iam_role.jumphost",
    message: /whole account/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "whole account with a condition",
    change: (tf) => {
      R(tf).aws_iam_role.jumphost.assume_role_policy = JSON.stringify({
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::123456789012:root" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "sts:ExternalId": "dbtunnel" } },
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
