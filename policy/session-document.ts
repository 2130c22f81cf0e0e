import { asString, isObject, parseJson, resources, type TfBlock, type TfObject } from "./tf-json.ts";
import type { TerraformJson } from "./types.ts";

/**
 * The Session Manager preferences documents and their parsed `inputs` (undefined = unreadable content).
 * Session documents of `sessionType: Port` (the stack's pinned port-forwarding document) carry no
 * preferences: logging and KMS settings live in the account's preferences document only.
 */
export function sessionDocuments(tf: TerraformJson): { doc: TfBlock; inputs: TfObject | undefined }[] {
  return resources(tf, "aws_ssm_document")
    .filter((d) => asString(d.body.document_type) === "Session")
    .filter((d) => {
      const content = parseJson(d.body.content);
      return !(isObject(content) && content.sessionType === "Port");
    })
    .map((doc) => {
      const content = parseJson(doc.body.content);
      const inputs = isObject(content) && isObject(content.inputs) ? content.inputs : undefined;
      return { doc, inputs };
    });
}

export const UNREADABLE =
  "content cannot be read as JSON (build it with JSON.stringify, not Fn.jsonencode), so it cannot be verified";
