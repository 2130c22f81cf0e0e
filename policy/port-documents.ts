import { asString, blockAt, exactReference, isObject, parseJson, type TfBlock } from "./tf-json.ts";
import type { TerraformJson } from "./types.ts";

/**
 * Whether a Session document named in an engineer policy pins sessions to the database (aws-facts.md,
 * "IAM for engineers"): a `Session` document of `sessionType: Port` whose properties fix
 * `LocalPortForwarding`, and whose `host` and `portNumber` are either literal or `{{ parameter }}`s
 * whose `allowedPattern` admits only fixed values: `^(A|B)$` / `^A$` where every alternative is a literal
 * name (dots as `[.]` or `\.`) or one Terraform expression that yields one (the stack's `[.]`-escaped
 * endpoint). AWS-owned documents (`AWS-StartPortForwardingSessionToRemoteHost` and friends) take any
 * host and port and are never pinned.
 */

export type DocumentVerdict = { readonly pinned: true } | { readonly pinned: false; readonly why: string };

const TEMPLATE = /^\{\{\s*([A-Za-z0-9_]+)\s*\}\}$/;
/** A literal host or port: letters, digits, hyphens, and dots written as [.] or \. */
const LITERAL_ALTERNATIVE = /^(?:[A-Za-z0-9-]|\[\.\]|\\\.)+$/;
/** One Terraform expression (the stack's escaped endpoint). */
const EXPRESSION_ALTERNATIVE = /^\$\{[^{}]+\}$/;

export function fixedValuePattern(pattern: string): boolean {
  const m = /^\^\((.+)\)\$$/.exec(pattern) ?? /^\^(.+)\$$/.exec(pattern);
  if (!m?.[1]) return false;
  // Alternatives split at top-level "|" only (none may hide inside an expression).
  return m[1]
    .split("|")
    .every((alt) => alt.length > 0 && (LITERAL_ALTERNATIVE.test(alt) || EXPRESSION_ALTERNATIVE.test(alt)));
}

/** The aws_ssm_document block a policy resource names by reference, if any. */
export function referencedDocument(tf: TerraformJson, resource: string): TfBlock | undefined {
  const ref = exactReference(resource);
  if (!ref?.address.startsWith("aws_ssm_document.") || (ref.attribute ?? "arn") !== "arn") return undefined;
  return blockAt(tf, ref.address);
}

export function judgeDocument(block: TfBlock): DocumentVerdict {
  if (asString(block.body.document_type) !== "Session")
    return { pinned: false, why: "is not a Session document" };
  const content = parseJson(block.body.content);
  if (!isObject(content))
    return { pinned: false, why: "has content that cannot be read as JSON (build it with JSON.stringify)" };
  if (content.sessionType !== "Port") return { pinned: false, why: "is not of sessionType Port" };
  const properties = isObject(content.properties) ? content.properties : {};
  if (properties.type !== "LocalPortForwarding")
    return { pinned: false, why: "does not fix properties.type LocalPortForwarding" };
  const parameters = isObject(content.parameters) ? content.parameters : {};
  for (const field of ["host", "portNumber"] as const) {
    const value = properties[field];
    if (typeof value !== "string" || value === "")
      return { pinned: false, why: `sets no properties.${field}` };
    const template = TEMPLATE.exec(value);
    if (!template) {
      if (value.includes("{{")) return { pinned: false, why: `builds properties.${field} from parameters` };
      continue; // literal: pinned
    }
    const parameter = parameters[template[1] as string];
    const pattern = isObject(parameter) ? parameter.allowedPattern : undefined;
    if (typeof pattern !== "string")
      return { pinned: false, why: `takes ${field} from a parameter without allowedPattern` };
    if (!fixedValuePattern(pattern))
      return {
        pinned: false,
        why: `takes ${field} from a parameter whose allowedPattern ${JSON.stringify(pattern)} admits more than fixed values`,
      };
  }
  return { pinned: true };
}
