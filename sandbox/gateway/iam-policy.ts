/**
 * A small IAM identity-policy evaluator for the statement subset dbtunnel's stacks (and AWS's Session
 * Manager policy examples) use, so the gateway can decide StartSession / ResumeSession /
 * TerminateSession the way IAM does ("Policy evaluation logic", IAM User Guide):
 *
 * - explicit Deny wins, then any Allow, otherwise implicit deny;
 * - `Action` / `NotAction` and `Resource` / `NotResource` with `*` and `?` wildcards (case-insensitive
 *   actions, case-sensitive resources);
 * - policy variables in `Resource` and condition values: `${aws:userid}`, `${aws:username}`, any other
 *   request context key, and the escapes `${*}`, `${?}`, `${$}`; a variable with no value makes the
 *   element not match ("IAM policy elements: Variables and tags");
 * - condition operators String(Not)Equals, String(Not)Like, StringEqualsIgnoreCase, Bool, ArnEquals,
 *   ArnLike, each with `IfExists`; several values of one key are ORed, keys and operators ANDed.
 *
 * Anything outside the subset (an unknown operator) makes an Allow statement not apply and a Deny
 * statement apply: the evaluator fails closed.
 */

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<
    Record<string, Readonly<Record<string, string | readonly string[] | boolean>>>
  >;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: PolicyStatement | readonly PolicyStatement[];
}

/** The request as IAM sees it: one action on one resource with its context keys. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  /** Context keys (`aws:userid`, `ssm:SessionDocumentAccessCheck`, `ssm:resourceTag/<key>`, ...). */
  readonly context: Readonly<Record<string, string | undefined>>;
}

export type Decision = "allow" | "explicit-deny" | "implicit-deny";

export function evaluate(policies: readonly PolicyDocument[], request: AuthorizationRequest): Decision {
  let allowed = false;
  for (const policy of policies) {
    const statements = Array.isArray(policy.Statement)
      ? (policy.Statement as readonly PolicyStatement[])
      : [policy.Statement as PolicyStatement];
    for (const statement of statements) {
      if (!statementApplies(statement, request)) continue;
      if (statement.Effect === "Deny") return "explicit-deny";
      if (statement.Effect === "Allow") allowed = true;
    }
  }
  return allowed ? "allow" : "implicit-deny";
}

function list(value: string | readonly string[] | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? [value] : value;
}

function statementApplies(statement: PolicyStatement, request: AuthorizationRequest): boolean {
  const deny = statement.Effect === "Deny";
  const actions = list(statement.Action);
  const notActions = list(statement.NotAction);
  if (actions && !actions.some((a) => wildcardMatch(a.toLowerCase(), request.action.toLowerCase())))
    return false;
  if (notActions?.some((a) => wildcardMatch(a.toLowerCase(), request.action.toLowerCase()))) return false;
  if (!actions && !notActions) return false;
  const resources = list(statement.Resource);
  const notResources = list(statement.NotResource);
  if (resources && !resources.some((r) => resourceMatches(r, request))) return false;
  if (notResources?.some((r) => resourceMatches(r, request))) return false;
  if (!resources && !notResources) return false;
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, rawValues] of Object.entries(keys)) {
      const values = (Array.isArray(rawValues) ? rawValues : [rawValues]).map(String);
      const outcome = conditionHolds(operator, request.context[key], values, request);
      if (outcome === "unsupported") return deny;
      if (!outcome) return false;
    }
  }
  return true;
}

function resourceMatches(pattern: string, request: AuthorizationRequest): boolean {
  const expanded = substituteVariables(pattern, request.context);
  return expanded !== undefined && wildcardMatch(expanded, request.resource);
}

/**
 * Replaces `${key}` by the request context value; `${*}`, `${?}`, `${$}` stand for the literal
 * characters. Answers undefined when a variable has no value (IAM: the element then does not match).
 * Wildcards inside a substituted value are literal, so they are escaped with a marker that
 * wildcardMatch understands.
 */
export function substituteVariables(
  text: string,
  context: Readonly<Record<string, string | undefined>>,
): string | undefined {
  let missing = false;
  const out = text.replace(/\$\{([^}]*)\}/g, (_whole, name: string) => {
    if (name === "*" || name === "?" || name === "$") return LITERAL + name;
    const value = context[name];
    if (value === undefined) {
      missing = true;
      return "";
    }
    return value.replace(/[*?]/g, (c) => LITERAL + c);
  });
  return missing ? undefined : out;
}

/** Marks the next character as literal (cannot occur in ARNs or context values the gateway builds). */
const LITERAL = "\u0000";

/** IAM's `*` (any run, also empty) and `?` (one character) match, anchored at both ends. */
export function wildcardMatch(pattern: string, value: string): boolean {
  let source = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === LITERAL) {
      i++;
      source += escapeRegex(pattern[i] ?? "");
    } else if (c === "*") source += "[\\s\\S]*";
    else if (c === "?") source += "[\\s\\S]";
    else source += escapeRegex(c);
  }
  return new RegExp(`${source}$`).test(value);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

function conditionHolds(
  rawOperator: string,
  actual: string | undefined,
  values: readonly string[],
  request: AuthorizationRequest,
): boolean | "unsupported" {
  const ifExists = rawOperator.endsWith("IfExists");
  const operator = ifExists ? rawOperator.slice(0, -"IfExists".length) : rawOperator;
  const negated = operator === "StringNotEquals" || operator === "StringNotLike";
  if (actual === undefined) {
    // IfExists: a missing key satisfies the condition. Negated operators match a missing key too.
    if (ifExists || negated) return true;
    return SUPPORTED.has(operator) ? false : "unsupported";
  }
  const expanded = values.map((v) => substituteVariables(v, request.context));
  const literal = (v: string | undefined) => (v === undefined ? undefined : v.replaceAll(LITERAL, ""));
  switch (operator) {
    case "StringEquals":
      return expanded.some((v) => literal(v) === actual);
    case "StringNotEquals":
      return !expanded.some((v) => literal(v) === actual);
    case "StringEqualsIgnoreCase":
      return expanded.some((v) => literal(v)?.toLowerCase() === actual.toLowerCase());
    case "StringLike":
    case "ArnLike":
      return expanded.some((v) => v !== undefined && wildcardMatch(v, actual));
    case "StringNotLike":
      return !expanded.some((v) => v !== undefined && wildcardMatch(v, actual));
    case "ArnEquals":
      return expanded.some((v) => literal(v) === actual);
    case "Bool":
      return expanded.some((v) => literal(v)?.toLowerCase() === actual.toLowerCase());
    default:
      return "unsupported";
  }
}

const SUPPORTED = new Set([
  "StringEquals",
  "StringNotEquals",
  "StringEqualsIgnoreCase",
  "StringLike",
  "StringNotLike",
  "ArnEquals",
  "ArnLike",
  "Bool",
]);
