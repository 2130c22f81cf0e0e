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
import { jumpRolePolicy, R, setEngineerPolicy } from "../fixtures/stack-edits.ts";
import { startSessionScoped as rule } from "./start-session-scoped.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "no document access check",
    change: (tf) => setEngineerPolicy(tf, (d) => delete d.Statement[0].Condition),
    resource: "aws_iam_policy.engineer",
    message: /SessionDocumentAccessCheck/,
  },
  {
    name: "any instance",
    change: (tf) => setEngineerPolicy(tf, (d) => (d.Statement[0].Resource[0] = "arn:aws:ec2:*:*:instance/*")),
    resource: "aws_iam_policy.engineer",
    message: /other than the jump host.*instance\/\*/,
  },
  {
    name: "shell document instead of port forwarding",
    change: (tf) =>
      setEngineerPolicy(
        tf,
        (d) => (d.Statement[0].Resource[1] = "arn:aws:ssm:eu-west-1::document/AWS-StartInteractiveCommand"),
      ),
    resource: "aws_iam_policy.engineer",
    message: /AWS-StartInteractiveCommand/,
  },
  {
    name: "the AWS-owned remote-host document instead of the stack's pinned one",
    change: (tf) =>
      setEngineerPolicy(
        tf,
        (d) =>
          (d.Statement[0].Resource[1] =
            "arn:aws:ssm:eu-west-1::document/AWS-StartPortForwardingSessionToRemoteHost"),
      ),
    resource: "aws_iam_policy.engineer",
    message: /does not name the stack's own Port document/,
  },
  {
    name: "the tasks of every ECS cluster",
    change: (tf) =>
      setEngineerPolicy(
        tf,
        (d) => (d.Statement[0].Resource[0] = "arn:aws:ecs:eu-west-1:123456789012:task/*/*"),
      ),
    resource: "aws_iam_policy.engineer",
    message: /task\/\*\/\*/,
  },
  {
    name: "ssm:* on *",
    change: (tf) => jumpRolePolicy(tf, [{ Effect: "Allow", Action: "ssm:*", Resource: "*" }]),
    resource: "aws_iam_role.jumphost",
    message: /other than the jump host/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "ECS jump host: the tasks of a cluster named literally",
    change: (tf) =>
      setEngineerPolicy(
        tf,
        (d) => (d.Statement[0].Resource[0] = "arn:aws:ecs:eu-west-1:123456789012:task/dbtunnel/*"),
      ),
  },
  {
    name: "aws_iam_policy_document form",
    change: (tf) => {
      tf.data.aws_iam_policy_document.engineer = {
        statement: [
          {
            actions: ["ssm:StartSession"],
            resources: ["${aws_instance.jumphost.arn}", "${aws_ssm_document.db_port.arn}"],
            condition: [
              { test: "BoolIfExists", variable: "ssm:SessionDocumentAccessCheck", values: ["true"] },
            ],
          },
        ],
      };
      R(tf).aws_iam_policy.engineer.policy = "${data.aws_iam_policy_document.engineer.json}";
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
