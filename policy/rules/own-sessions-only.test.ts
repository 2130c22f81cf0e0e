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
import { R, setEngineerPolicy } from "../fixtures/stack-edits.ts";
import { ownSessionsOnly as rule } from "./own-sessions-only.ts";

const NON_COMPLIANT: NonCompliantCase[] = [
  {
    name: "terminate anyone's session (no session-id tag condition)",
    change: (tf) => setEngineerPolicy(tf, (d) => delete d.Statement[1].Condition),
    resource: "aws_iam_policy.engineer",
    message: /every session/,
  },
  {
    name: "session/${aws:userid}-*, which matches no real session id",
    change: (tf) =>
      setEngineerPolicy(tf, (d) => {
        d.Statement[1].Resource = "arn:aws:ssm:*:*:session/$${aws:userid}-*";
        delete d.Statement[1].Condition;
      }),
    resource: "aws_iam_policy.engineer",
    message: /matches no real session id/,
  },
  {
    name: "unescaped policy variable",
    change: (tf) =>
      setEngineerPolicy(
        tf,
        (d) =>
          (d.Statement[1].Condition.StringLike["ssm:resourceTag/aws:ssmmessages:session-id"] =
            "${aws:userid}"),
      ),
    resource: "aws_iam_policy.engineer",
    message: /not escaped/,
  },
  {
    name: "anyone's session by tag",
    change: (tf) =>
      setEngineerPolicy(
        tf,
        (d) => (d.Statement[1].Condition.StringLike["ssm:resourceTag/aws:ssmmessages:session-id"] = "*"),
      ),
    resource: "aws_iam_policy.engineer",
    message: /every session/,
  },
];

const COMPLIANT: CompliantVariant[] = [
  {
    name: "&{aws:userid} in aws_iam_policy_document",
    change: (tf) => {
      tf.data.aws_iam_policy_document.engineer = {
        statement: [
          {
            actions: ["ssm:TerminateSession", "ssm:ResumeSession"],
            resources: ["arn:aws:ssm:*:*:session/*"],
            condition: [
              {
                test: "StringLike",
                variable: "ssm:resourceTag/aws:ssmmessages:session-id",
                values: ["&{aws:userid}"],
              },
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
