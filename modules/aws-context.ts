import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { TerraformStack } from "cdktf";
import type { IConstruct } from "constructs";

/**
 * The stack's partition and account, like aws-cdk-lib's `Stack.of(this).partition` / `.account`: one
 * `aws_partition` and one `aws_caller_identity` data source per stack, created on first use. Every ARN a
 * module builds starts with `arn:${partition}:` so `aws`, `aws-us-gov` and `aws-cn` stacks all get correct
 * ARNs (the provider answers these from its region, without an API call for the partition).
 */
export function partitionOf(scope: IConstruct): string {
  return attribute(
    scope,
    "aws-partition",
    () => singleton(scope, "aws-partition", (stack, id) => new DataAwsPartition(stack, id)).partition,
  );
}

/** The partition's DNS suffix (`amazonaws.com`, `amazonaws.com.cn`), for regional service principals. */
export function dnsSuffixOf(scope: IConstruct): string {
  return attribute(
    scope,
    "aws-partition.dns_suffix",
    () => singleton(scope, "aws-partition", (stack, id) => new DataAwsPartition(stack, id)).dnsSuffix,
  );
}

/** The account id of the stack's provider credentials. */
export function accountIdOf(scope: IConstruct): string {
  return attribute(
    scope,
    "account",
    () => singleton(scope, "account", (stack, id) => new DataAwsCallerIdentity(stack, id)).accountId,
  );
}

/** The provider's region (for constructs whose props do not carry it). */
export function regionOf(scope: IConstruct): string {
  return attribute(
    scope,
    "aws-region",
    () => singleton(scope, "aws-region", (stack, id) => new DataAwsRegion(stack, id)).name,
  );
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` with the stack's partition. */
export function arn(
  scope: IConstruct,
  parts: { service: string; region?: string; account?: string; resource: string },
): string {
  return `arn:${partitionOf(scope)}:${parts.service}:${parts.region ?? ""}:${parts.account ?? ""}:${parts.resource}`;
}

function singleton<T extends IConstruct>(
  scope: IConstruct,
  id: string,
  create: (stack: TerraformStack, id: string) => T,
): T {
  const stack = TerraformStack.of(scope);
  return (stack.node.tryFindChild(id) as T | undefined) ?? create(stack, id);
}

/**
 * One token string per stack and attribute: every read returns the same string, so two grants of the same
 * statement are equal and a policy keeps it once.
 */
const attributes = new WeakMap<TerraformStack, Map<string, string>>();

function attribute(scope: IConstruct, key: string, read: () => string): string {
  const stack = TerraformStack.of(scope);
  let cache = attributes.get(stack);
  if (!cache) {
    cache = new Map();
    attributes.set(stack, cache);
  }
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const value = read();
  cache.set(key, value);
  return value;
}
