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
import { noInternetPath as rule } from "./no-internet-path.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "an internet gateway",
    change: (tf) => {
      R(tf).aws_internet_gateway = { igw: { vpc_id: "${aws_vpc.vpc.id}" } };
    },
    resource: "aws_internet_gateway.igw",
    message: /internet gateway/,
  },
  {
    name: "a default route",
    change: (tf) => {
      R(tf).aws_route = {
        out: {
          route_table_id: "${aws_route_table.private.id}",
          destination_cidr_block: "0.0.0.0/0",
          nat_gateway_id: "nat-1",
        },
      };
    },
    resource: "aws_route.out",
    message: /route to 0\.0\.0\.0\/0/,
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
