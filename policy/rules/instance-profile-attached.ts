import { defineRule, fail, ok } from "../define-rule.ts";
import { asObject, asString, resources } from "../tf-json.ts";

export const instanceProfileAttached = defineRule({
  id: "CKV2_AWS_41",
  description: "The instance has an IAM instance profile (the SSM agent needs it).",
  fix: "Set iam_instance_profile to the jump host's aws_iam_instance_profile.",
  check: (tf) => [
    ...resources(tf, "aws_instance").map((b) =>
      (asString(b.body.iam_instance_profile) ?? "") !== ""
        ? ok(b.address, "instance profile attached")
        : fail(b.address, "iam_instance_profile is not set"),
    ),
    ...resources(tf, "aws_launch_template").map((b) => {
      const p = asObject(b.body.iam_instance_profile);
      return p && (p.arn !== undefined || p.name !== undefined)
        ? ok(b.address, "instance profile attached")
        : fail(b.address, "iam_instance_profile is not set");
    }),
  ],
});
