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
import { addPublicSubnet, R } from "../fixtures/stack-edits.ts";
import { naclDenyAdminPorts as rule } from "./nacl-deny-admin-ports.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "the deny for 22 removed (the allow-all from the VPC matches first)",
    change: (tf) => {
      R(tf).aws_network_acl.private.ingress.shift();
    },
    resource: "aws_subnet.private_a",
    message: /allows inbound tcp 22/,
  },
  {
    name: "a subnet without a network ACL",
    change: (tf) => {
      R(tf).aws_network_acl.private.subnet_ids = ["${aws_subnet.private_a.id}"];
    },
    resource: "aws_subnet.private_b",
    message: /default ACL allows all/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "a public subnet (routed to an internet gateway) needs no admin-port deny",
    change: addPublicSubnet,
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
