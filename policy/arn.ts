/**
 * The partition field of ARNs in synthesized JSON: a literal partition (`aws`, `aws-us-gov`, `aws-cn`...)
 * or a reference to the `aws_partition` data source (`${data.aws_partition.<name>.partition}`), which is
 * how the modules build every ARN. Rules that match ARNs use this instead of a literal `arn:aws:`.
 */
export const ARN_PARTITION = String.raw`(?:aws[\w-]*|\$\{data\.aws_partition\.[\w-]+\.partition\})`;

/** A regular expression for `arn:<partition>:` followed by `rest` (a regex source), anchored at both ends. */
export function arnPattern(rest: string): RegExp {
  return new RegExp(`^arn:${ARN_PARTITION}:${rest}$`);
}
