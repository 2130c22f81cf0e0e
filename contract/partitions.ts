/**
 * Which AWS partition a region belongs to: the first field after `arn:` of every ARN in that region.
 * Terraform gets it from the `aws_partition` data source; the policy uses this table to check that the
 * literal ARNs of a stack name the partition of the stack's region.
 */
export function partitionOfRegion(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("us-iso-")) return "aws-iso";
  if (region.startsWith("eu-isoe-")) return "aws-iso-e";
  if (region.startsWith("us-isof-")) return "aws-iso-f";
  return "aws";
}

/** The partition field of an ARN, or undefined for anything that is not a literal ARN. */
export function partitionOfArn(arn: string): string | undefined {
  return /^arn:([a-z-]+):/.exec(arn)?.[1];
}
