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
import { amiSourcePinned as rule } from "./ami-source-pinned.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "AMI from an account-owned parameter",
    change: (tf) => {
      tf.data.aws_ssm_parameter.al2023.name = "/platform/golden-ami";
    },
    resource: "aws_instance.jumphost",
    message: /can overwrite/,
  },
  {
    name: "data.aws_ami without owners",
    change: (tf) => {
      tf.data.aws_ami = {
        al2023: { most_recent: true, filter: [{ name: "name", values: ["al2023-ami-*"] }] },
      };
      R(tf).aws_instance.jumphost.ami = "${data.aws_ami.al2023.id}";
    },
    resource: "data.aws_ami.al2023",
    message: /owners is empty/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "data.aws_ami with owners",
    change: (tf) => {
      tf.data.aws_ami = { al2023: { most_recent: true, owners: ["amazon"] } };
      R(tf).aws_instance.jumphost.ami = "${data.aws_ami.al2023.id}";
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
