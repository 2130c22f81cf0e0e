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
import { noCidrIngressOutsideVpc as rule } from "./no-cidr-ingress-outside-vpc.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "a public range",
    change: (tf) => {
      R(tf).aws_vpc_security_group_ingress_rule.office = {
        security_group_id: "${aws_security_group.database.id}",
        cidr_ipv4: "203.0.113.0/24",
        ip_protocol: "tcp",
        from_port: 5432,
        to_port: 5432,
      };
    },
    resource: "aws_vpc_security_group_ingress_rule.office",
    message: /203\.0\.113\.0\/24, outside the VPC/,
  },
  {
    name: "::/0 inline",
    change: (tf) => {
      R(tf).aws_security_group.endpoints.ingress = [
        { protocol: "tcp", from_port: 443, to_port: 443, ipv6_cidr_blocks: ["::/0"] },
      ];
    },
    resource: "aws_security_group.endpoints",
    message: /::\/0/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "a CIDR inside the VPC",
    change: (tf) => {
      R(tf).aws_security_group.endpoints.ingress = [
        { protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["10.0.1.0/24"] },
      ];
    },
  },
  {
    name: "a reference to the VPC CIDR",
    change: (tf) => {
      R(tf).aws_security_group.endpoints.ingress = [
        { protocol: "tcp", from_port: 443, to_port: 443, cidr_blocks: ["${aws_vpc.vpc.cidr_block}"] },
      ];
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
