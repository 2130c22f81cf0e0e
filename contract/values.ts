/**
 * Validators for values that cross a boundary (outputs files, tags, API answers, config). Each answers
 * `undefined` when the value is good, else the problem as a phrase that completes "<field> ...", so callers
 * can name the field and the file. Pure functions, no runtime dependencies.
 */

export type Problem = string | undefined;

/** A JSON object (not null, not an array): what a parsed file, tag set or API answer must be before its fields are read. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Any C0/C1 control character or Unicode whitespace (a newline in a value must never reach a file). */
function hasControlOrSpace(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x20 || (code >= 0x7f && code <= 0xa0) || code === 0x200b || code === 0xfeff) return true;
    if (/\s/u.test(char)) return true;
  }
  return false;
}

/**
 * A DNS host name: RFC 1123 labels (1-63 letters, digits, hyphens, not starting or ending with a hyphen),
 * at most 253 characters in all, an optional trailing dot. RDS endpoints
 * (`db.abc.eu-west-1.rds.amazonaws.com`, `.rds.amazonaws.com.cn`) and the sandbox's names are of this form.
 */
export function dnsNameProblem(value: string): Problem {
  if (value.length === 0) return "is empty";
  if (hasControlOrSpace(value)) return "contains whitespace or a control character; it must be a DNS name";
  const name = value.endsWith(".") ? value.slice(0, -1) : value;
  if (name.length > 253) return `is ${name.length} characters long; a DNS name has at most 253`;
  for (const label of name.split(".")) {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label)) {
      return `must be a DNS name (labels of 1-63 letters, digits and inner hyphens), got "${printable(value)}"`;
    }
  }
  return undefined;
}

export function portProblem(value: unknown): Problem {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535
    ? undefined
    : "must be a port number from 1 to 65535";
}

/** Partitions AWS has today; ARNs name one of them. */
export const AWS_PARTITIONS = [
  "aws",
  "aws-cn",
  "aws-us-gov",
  "aws-iso",
  "aws-iso-b",
  "aws-iso-e",
  "aws-iso-f",
];

/**
 * An ARN: `arn:<partition>:<service>:<region>:<account>:<resource>`, region and account possibly empty
 * (IAM, S3), resource non-empty, no whitespace or control characters. `service` when given must match.
 */
export function arnProblem(value: string, service?: string): Problem {
  const what = service ? `an ${service} ARN` : "an ARN";
  if (hasControlOrSpace(value)) return `contains whitespace or a control character; it must be ${what}`;
  const m = /^arn:([a-z-]+):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|aws|)?:(.+)$/.exec(value);
  if (!m || !AWS_PARTITIONS.includes(m[1] ?? "") || (service !== undefined && m[2] !== service)) {
    return `must be ${what} (arn:<partition>:${service ?? "<service>"}:<region>:<account>:<resource>), got "${printable(value)}"`;
  }
  return undefined;
}

/** EC2 instance id: `i-` and 8 or 17 lowercase hex digits. */
export function instanceIdProblem(value: string): Problem {
  return /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(value)
    ? undefined
    : `must be an EC2 instance id such as "i-0123456789abcdef0", got "${printable(value)}"`;
}

/** ECS cluster or service name: 1-255 letters, digits, hyphens and underscores. */
export function ecsNameProblem(value: string): Problem {
  return /^[A-Za-z0-9_-]{1,255}$/.test(value)
    ? undefined
    : `must be an ECS name (1-255 letters, digits, hyphens, underscores), got "${printable(value)}"`;
}

/** RDS resource id as used in rds-db:connect ARNs: `db-…` (DbiResourceId) or `cluster-…` (Aurora). */
export function rdsResourceIdProblem(value: string): Problem {
  return /^(?:db|cluster)-[A-Za-z0-9]{1,64}$/.test(value)
    ? undefined
    : `must be an RDS resource id such as "db-ABCDEFGHIJKLMNOPQRSTUVWXYZ" or "cluster-…", got "${printable(value)}"`;
}

/**
 * RDS DB instance or cluster identifier: 1-63 letters, digits and single hyphens, starting with a letter,
 * not ending with a hyphen. (RDS stores it lowercase; the Database module creates lowercase only.)
 */
export const RDS_IDENTIFIER = /^[A-Za-z](?!.*--)(?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
export function rdsIdentifierProblem(value: string): Problem {
  return RDS_IDENTIFIER.test(value)
    ? undefined
    : `must be an RDS identifier (1-63 letters, digits and single hyphens, starting with a letter), got "${printable(value)}"`;
}

/** AWS region name, e.g. `eu-west-1`, `us-gov-west-1`, `cn-north-1`. */
export const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;
export function regionProblem(value: string): Problem {
  return REGION.test(value)
    ? undefined
    : `must be an AWS region such as "us-east-1", got "${printable(value)}"`;
}

/** A database login role engineers use with IAM tokens (PostgreSQL and MySQL both accept this subset). */
export const DB_USER = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;
export function dbUserProblem(value: string): Problem {
  return DB_USER.test(value)
    ? undefined
    : `must be a database user name (letters, digits and underscores, starting with a letter or _), got "${printable(value)}"`;
}

/** A database name as the CLI passes it to clients: 1-63 characters of letters, digits, `_`, `$`, `-`. */
export function dbNameProblem(value: string): Problem {
  return /^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/.test(value)
    ? undefined
    : `must be a database name (1-63 letters, digits, _, $ or -), got "${printable(value)}"`;
}

/** An SSM document name (CreateDocument's pattern), or the ARN of one. */
export function ssmDocumentNameProblem(value: string): Problem {
  if (/^[a-zA-Z0-9_.-]{3,128}$/.test(value)) return undefined;
  if (arnProblem(value, "ssm") === undefined && /:document\/[a-zA-Z0-9_.-]{3,128}$/.test(value))
    return undefined;
  return `must be an SSM document name (3-128 letters, digits, _, - or .), got "${printable(value)}"`;
}

/** Echoes a bad value safely: control characters escaped, at most 80 characters. */
export function printable(value: string): string {
  const escaped = JSON.stringify(value).slice(1, -1);
  return escaped.length > 80 ? `${escaped.slice(0, 77)}...` : escaped;
}
