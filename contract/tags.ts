/**
 * Tag keys and values of the contract between the stack and the CLI: every taggable resource carries
 * `dbtunnel:stack = <stack name>` (provider default tags); the jump host (EC2 instance or ECS service)
 * and the database (RDS instance or Aurora cluster) also carry `dbtunnel:role`. The CLI finds stacks
 * by these when no outputs file is given, the policy finds the jump host by them, and the e2e sweep finds
 * leftovers by them.
 */

import { dbUserProblem } from "./values.ts";

/** Prefix reserved for the contract's tags; user tags must not use it. */
export const RESERVED_TAG_PREFIX = "dbtunnel:";

/** Name of the stack the resource belongs to. */
export const STACK_TAG = "dbtunnel:stack";

/** What the resource is to dbtunnel (values in ROLES). */
export const ROLE_TAG = "dbtunnel:role";

export const ROLES = { jumpHost: "jump-host", database: "database" } as const;

/**
 * On the database: its IAM database users, separated by spaces, so a stack found by tags (no outputs
 * file) knows whom to log in as, like output `db_iam_users`. A tag value holds at most 256 characters.
 */
export const IAM_USERS_TAG = "dbtunnel:iam-users";
export const TAG_VALUE_MAX = 256;

export function iamUsersTagValue(users: readonly string[]): string {
  return users.join(" ");
}

/**
 * The users named by an IAM_USERS_TAG value. A tag is anyone's to edit: only names that are valid
 * database user names are kept, each once; anything else is ignored (then `--user` is needed).
 */
export function iamUsersFromTag(value: string | undefined): string[] {
  if (!value || value.length > TAG_VALUE_MAX) return [];
  return [...new Set(value.split(" ").filter((user) => dbUserProblem(user) === undefined))];
}

export type Role = (typeof ROLES)[keyof typeof ROLES];
