import { defineRule, fail, ok } from "../define-rule.ts";
import { asNumber, asObject, asString, resources } from "../tf-json.ts";

export const instanceImdsv2Required = defineRule({
  id: "CKV_AWS_79",
  aliases: ["AVD-AWS-0028"],
  description: 'IMDSv2 is required (http_tokens = "required") with a hop limit of 1.',
  fix: 'Set metadata_options { http_tokens = "required", http_put_response_hop_limit = 1 }.',
  check: (tf) =>
    resources(tf, "aws_instance", "aws_launch_template").map((b) => {
      const m = asObject(b.body.metadata_options);
      if ((asString(m?.http_endpoint) ?? "") === "disabled")
        return ok(b.address, "instance metadata service disabled");
      if (asString(m?.http_tokens) !== "required")
        return fail(b.address, 'metadata_options.http_tokens is not "required" (IMDSv1 allowed)');
      const hops = asNumber(m?.http_put_response_hop_limit);
      if (hops !== 1)
        return fail(
          b.address,
          `metadata_options.http_put_response_hop_limit is ${hops ?? "not set (the AMI default may be 2)"}, must be 1`,
        );
      return ok(b.address, "IMDSv2 required, hop limit 1");
    }),
});
