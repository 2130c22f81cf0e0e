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
import type { MutableTf } from "../fixtures/secure-stack.ts";
import { secureStackWith } from "../fixtures/secure-stack.ts";
import { R } from "../fixtures/stack-edits.ts";
import { vpcEndpointPolicies as rule } from "./vpc-endpoint-policies.ts";

const editPolicy = (tf: MutableTf, name: string, edit: (doc: MutableTf) => void) => {
  const doc = JSON.parse(R(tf).aws_vpc_endpoint[name].policy);
  edit(doc);
  R(tf).aws_vpc_endpoint[name].policy = JSON.stringify(doc);
};

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "an interface endpoint without a policy",
    change: (tf) => delete R(tf).aws_vpc_endpoint.ssmmessages.policy,
    resource: "aws_vpc_endpoint.ssmmessages",
    message: /no endpoint policy/,
  },
  {
    name: "an interface endpoint open to every account",
    change: (tf) => editPolicy(tf, "ssm", (d) => delete d.Statement[0].Condition),
    resource: "aws_vpc_endpoint.ssm",
    message: /principals of any account/,
  },
  {
    name: "the S3 gateway endpoint without a policy",
    change: (tf) => delete R(tf).aws_vpc_endpoint.s3.policy,
    resource: "aws_vpc_endpoint.s3",
    message: /no endpoint policy/,
  },
  {
    name: "the S3 gateway endpoint reaching any bucket",
    change: (tf) => editPolicy(tf, "s3", (d) => d.Statement[0].Resource.push("arn:aws:s3:::*/*")),
    resource: "aws_vpc_endpoint.s3",
    message: /reaches any bucket: arn:aws:s3:::\*\/\*/,
  },
  {
    name: "an unreadable policy",
    change: (tf) => (R(tf).aws_vpc_endpoint.kms.policy = "${jsonencode(local.p)}"),
    resource: "aws_vpc_endpoint.kms",
    message: /cannot be read as JSON/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "an organization instead of an account",
    change: (tf) =>
      editPolicy(tf, "logs", (d) => {
        d.Statement[0].Condition = { StringEquals: { "aws:PrincipalOrgID": "o-abcdefghij" } };
      }),
  },
  {
    name: "an account principal instead of a condition",
    change: (tf) =>
      editPolicy(tf, "ec2messages", (d) => {
        delete d.Statement[0].Condition;
        d.Statement[0].Principal = { AWS: "arn:aws:iam::123456789012:root" };
      }),
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
