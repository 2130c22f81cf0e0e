import { defineRule, fail, ok } from "../define-rule.ts";
import { asObject, asString, resources } from "../tf-json.ts";

export const ssmDocumentNotPublic = defineRule({
  id: "CKV_AWS_303",
  description: "SSM documents are not shared publicly.",
  fix: 'Remove permissions { type = "Share", account_ids = "All" } from the SSM document.',
  check: (tf) =>
    resources(tf, "aws_ssm_document").map((d) => {
      const p = asObject(d.body.permissions);
      const ids = asString(p?.account_ids) ?? "";
      return asString(p?.type) === "Share" && ids.split(",").some((x) => x.trim().toLowerCase() === "all")
        ? fail(d.address, "the document is shared with all AWS accounts")
        : ok(d.address, "not shared publicly");
    }),
});
