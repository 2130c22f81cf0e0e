/**
 * The `export K=V` lines dbtunnel prints for `eval "$(...)"` (`dbtunnel sandbox up`, `connect --print-env`):
 * POSIX-shell quoting, so a value cannot break out of its assignment whatever it contains.
 */

/** Bare when the value is plainly safe, else single quotes with each ' written as '\''. */
export function shellQuote(value: string): string {
  if (/^[\w@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** One `export K=V` line. */
export function exportLine(key: string, value: string): string {
  return `export ${key}=${shellQuote(value)}`;
}
