/**
 * Tag keys and values of the contract between the stack and the CLI: every taggable resource carries
 * `dbtunnel:stack = <stack name>` (provider default tags); the jump host (EC2 instance or ECS service)
 * and the database (RDS instance or Aurora cluster) also carry `dbtunnel:role`. The CLI finds stacks
 * by these when no outputs file is given, the policy finds the jump host by them, and the e2e sweep finds
 * leftovers by them.
 */

/** Prefix reserved for the contract's tags; user tags must not use it. */
export const RESERVED_TAG_PREFIX = "dbtunnel:";

/** Name of the stack the resource belongs to. */
export const STACK_TAG = "dbtunnel:stack";

/** What the resource is to dbtunnel (values in ROLES). */
export const ROLE_TAG = "dbtunnel:role";

export const ROLES = { jumpHost: "jump-host", database: "database" } as const;

export type Role = (typeof ROLES)[keyof typeof ROLES];
