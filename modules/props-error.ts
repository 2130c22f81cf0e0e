import { Token } from "cdktf";

/**
 * Thrown when a construct receives props it cannot work with. The message is one line naming the
 * construct, the field and the fix, so the user sees what to change without reading a stack trace.
 */
export class InvalidPropsError extends Error {
  constructor(construct: string, field: string, problem: string, fix: string) {
    super(`${construct}: ${field} ${problem}; ${fix}`);
    this.name = "InvalidPropsError";
  }
}

/** True when the value is a literal we can check now (tokens are only known at apply time). */
export function isLiteral(value: unknown): boolean {
  return !Token.isUnresolved(value);
}

/** Validates an integer prop in [min, max] unless it is a token. */
export function checkIntRange(
  construct: string,
  field: string,
  value: number | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined || !isLiteral(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidPropsError(construct, field, `is ${value}`, `use a whole number from ${min} to ${max}`);
  }
}

/** A whole-number prop's range and default, exported by its module so config parsing applies the same rule. */
export interface IntRule {
  readonly min: number;
  readonly max: number;
  readonly default?: number;
}

/** A string prop's pattern and the fix shown when a value does not match it. */
export interface PatternRule {
  readonly pattern: RegExp;
  readonly hint: string;
}

/** Validates a string prop against its rule unless it is a token. */
export function checkPattern(
  construct: string,
  field: string,
  value: string | undefined,
  rule: PatternRule,
): void {
  if (value === undefined || !isLiteral(value)) return;
  if (!rule.pattern.test(value))
    throw new InvalidPropsError(construct, field, `"${value}" is not valid`, rule.hint);
}
