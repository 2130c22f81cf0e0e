import {
  asArray,
  asObjects,
  asString,
  asStrings,
  blockAt,
  exactReference,
  isObject,
  parseJson,
  resources,
  type TfObject,
} from "./tf-json.ts";
import type { TerraformJson } from "./types.ts";

/**
 * IAM policy documents, normalized from either a JSON string (JSON.stringify output, possibly holding
 * `${...}` references inside values) or a `data.aws_iam_policy_document` block. A document that cannot be
 * read (e.g. `${jsonencode(...)}`) is kept with `statements: undefined` so rules can fail it as unverifiable.
 */

export interface Condition {
  readonly test: string;
  readonly variable: string;
  readonly values: string[];
}

export interface Principal {
  readonly type: string; // AWS, Service, Federated, CanonicalUser, or "*" for a bare "*"
  readonly identifiers: string[];
}

export interface Statement {
  readonly sid: string | undefined;
  readonly effect: "Allow" | "Deny";
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: string[];
  readonly notResources: string[];
  readonly principals: Principal[];
  readonly notPrincipals: Principal[];
  readonly conditions: Condition[];
}

export type DocumentKind = "identity" | "trust" | "resource";

export interface PolicyDocument {
  /** The block holding the document (the policy, role, key or bucket policy). */
  readonly owner: string;
  /** Which attribute, e.g. `policy`, `assume_role_policy`, `inline_policy[0].policy`. */
  readonly attribute: string;
  readonly kind: DocumentKind;
  /** undefined = could not be read: rules treat it as "cannot verify". */
  readonly statements: Statement[] | undefined;
  /** Where the statements really live (a data source), for messages. */
  readonly source: string;
}

function strList(v: unknown): string[] {
  return asArray(v).map((x) => (typeof x === "string" ? x : JSON.stringify(x)));
}

function principalsFromJson(v: unknown): Principal[] {
  if (v === undefined) return [];
  if (typeof v === "string") return [{ type: v === "*" ? "*" : "AWS", identifiers: [v] }];
  if (!isObject(v)) return [];
  return Object.entries(v).map(([type, ids]) => ({ type, identifiers: strList(ids) }));
}

function conditionsFromJson(v: unknown): Condition[] {
  if (!isObject(v)) return [];
  const out: Condition[] = [];
  for (const [test, body] of Object.entries(v)) {
    if (!isObject(body)) continue;
    for (const [variable, values] of Object.entries(body)) {
      out.push({ test, variable, values: strList(values).map((s) => s.replace(/^"(.*)"$/, "$1")) });
    }
  }
  return out;
}

function statementsFromJson(doc: unknown): Statement[] | undefined {
  if (!isObject(doc)) return undefined;
  const raw = doc.Statement;
  if (raw === undefined) return undefined;
  const list = asArray(raw);
  if (!list.every(isObject)) return undefined;
  return (list as TfObject[]).map((s) => ({
    sid: asString(s.Sid),
    effect: s.Effect === "Deny" ? "Deny" : "Allow",
    actions: strList(s.Action),
    notActions: strList(s.NotAction),
    resources: strList(s.Resource),
    notResources: strList(s.NotResource),
    principals: principalsFromJson(s.Principal),
    notPrincipals: principalsFromJson(s.NotPrincipal),
    conditions: conditionsFromJson(s.Condition),
  }));
}

function principalsFromBlocks(v: unknown): Principal[] {
  return asObjects(v).map((p) => ({ type: asString(p.type) ?? "", identifiers: asStrings(p.identifiers) }));
}

function statementsFromDataSource(body: TfObject): Statement[] {
  return asObjects(body.statement).map((s) => ({
    sid: asString(s.sid),
    effect: s.effect === "Deny" ? "Deny" : "Allow",
    actions: asStrings(s.actions),
    notActions: asStrings(s.not_actions),
    resources: asStrings(s.resources),
    notResources: asStrings(s.not_resources),
    principals: principalsFromBlocks(s.principals),
    notPrincipals: principalsFromBlocks(s.not_principals),
    conditions: asObjects(s.condition).map((c) => ({
      test: asString(c.test) ?? "",
      variable: asString(c.variable) ?? "",
      values: asStrings(c.values),
    })),
  }));
}

/** Reads one policy attribute value into statements (undefined when it cannot be verified). */
export function readDocument(
  tf: TerraformJson,
  value: unknown,
): { statements: Statement[] | undefined; source: string } {
  const ref = exactReference(value);
  if (ref?.address.startsWith("data.aws_iam_policy_document.")) {
    const block = blockAt(tf, ref.address);
    if (!block) return { statements: undefined, source: ref.address };
    // Merged documents cannot be verified statement by statement from here.
    const merged = ["source_policy_documents", "override_policy_documents", "source_json", "override_json"];
    if (merged.some((k) => block.body[k] !== undefined))
      return { statements: undefined, source: ref.address };
    return { statements: statementsFromDataSource(block.body), source: ref.address };
  }
  if (typeof value === "string" && value.trim().startsWith("${"))
    return { statements: undefined, source: "expression" };
  return { statements: statementsFromJson(parseJson(value)), source: "inline JSON" };
}

const IDENTITY: readonly [string, string][] = [
  ["aws_iam_policy", "policy"],
  ["aws_iam_role_policy", "policy"],
  ["aws_iam_user_policy", "policy"],
  ["aws_iam_group_policy", "policy"],
];
const RESOURCE: readonly [string, string][] = [
  ["aws_kms_key", "policy"],
  ["aws_kms_key_policy", "policy"],
  ["aws_s3_bucket_policy", "policy"],
];

export function allDocuments(tf: TerraformJson): PolicyDocument[] {
  const docs: PolicyDocument[] = [];
  const push = (owner: string, attribute: string, kind: DocumentKind, value: unknown): void => {
    if (value === undefined || value === null || value === "") return;
    const { statements, source } = readDocument(tf, value);
    docs.push({ owner, attribute, kind, statements, source });
  };
  for (const [type, attr] of IDENTITY)
    for (const b of resources(tf, type)) push(b.address, attr, "identity", b.body[attr]);
  for (const b of resources(tf, "aws_iam_role")) {
    push(b.address, "assume_role_policy", "trust", b.body.assume_role_policy);
    asObjects(b.body.inline_policy).forEach((p, i) => {
      push(b.address, `inline_policy[${i}].policy`, "identity", p.policy);
    });
  }
  for (const [type, attr] of RESOURCE)
    for (const b of resources(tf, type)) push(b.address, attr, "resource", b.body[attr]);
  return docs;
}

export function documentsOfKind(tf: TerraformJson, kind: DocumentKind): PolicyDocument[] {
  return allDocuments(tf).filter((d) => d.kind === kind);
}

/** IAM wildcard match of an action pattern (`ssm:Start*`, `*`) against a concrete action, case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  );
  return re.test(action);
}

/** Whether an Allow statement grants `action` (NotAction counts: it grants everything not listed). */
export function grants(s: Statement, action: string): boolean {
  if (s.effect !== "Allow") return false;
  if (s.notActions.length > 0) return !s.notActions.some((p) => actionMatches(p, action));
  return s.actions.some((p) => actionMatches(p, action));
}

export function isWildcardPrincipal(p: Principal): boolean {
  return p.identifiers.some((id) => id === "*") && (p.type === "*" || p.type === "AWS");
}

export function label(doc: PolicyDocument): string {
  return doc.source.startsWith("data.") ? `${doc.attribute} (${doc.source})` : doc.attribute;
}

export function describeStatement(s: Statement, index: number): string {
  return s.sid ? `statement "${s.sid}"` : `statement #${index + 1}`;
}
