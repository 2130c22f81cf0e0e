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
import { addPublicSubnet, broughtInVpc, R, sessionInputs } from "../fixtures/stack-edits.ts";
import { ssmInterfaceEndpoints as rule } from "./ssm-interface-endpoints.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "ssmmessages endpoint missing",
    change: (tf) => {
      delete R(tf).aws_vpc_endpoint.ssmmessages;
    },
    resource: undefined,
    message: /no interface endpoint for ssmmessages/,
  },
  {
    name: "private DNS off",
    change: (tf) => {
      R(tf).aws_vpc_endpoint.ssm.private_dns_enabled = false;
    },
    resource: "aws_vpc_endpoint.ssm",
    message: /private_dns_enabled/,
  },
  {
    name: "kms endpoint missing while the session preferences use KMS",
    change: (tf) => {
      delete R(tf).aws_vpc_endpoint.kms;
    },
    resource: undefined,
    message: /no interface endpoint for kms/,
  },
  {
    name: "endpoint in a subnet routed to an internet gateway",
    change: (tf) => {
      addPublicSubnet(tf);
      R(tf).aws_vpc_endpoint.ssm.subnet_ids = ["${aws_subnet.public.id}"];
    },
    resource: "aws_vpc_endpoint.ssm",
    message: /\$\{aws_subnet\.public\.id\} are not private subnets/,
  },
  {
    name: "endpoint in a subnet given by id inside the stack's own VPC",
    change: (tf) => {
      R(tf).aws_vpc_endpoint.ec2messages.subnet_ids = ["subnet-0123"];
    },
    resource: "aws_vpc_endpoint.ec2messages",
    message: /private subnets/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  { name: "a brought-in VPC: endpoints in subnets given by id", change: broughtInVpc },
  {
    name: "no kms/logs endpoints needed when preferences use neither",
    change: (tf) => {
      sessionInputs(tf, (i) => {
        delete i.kmsKeyId;
        delete i.cloudWatchLogGroupName;
      });
      delete R(tf).aws_vpc_endpoint.kms;
      delete R(tf).aws_vpc_endpoint.logs;
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
