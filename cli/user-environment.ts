/**
 * The environment of the programs dbtunnel runs for the user (the `--exec` command, psql / mysql, the demo's
 * cdktf and terraform): the user's, as it was before `bin/dbtunnel`. The wrapper turns JavaScriptCore's FTL
 * JIT off for dbtunnel's own Bun process (`BUN_JSC_useFTLJIT=0`, a memory saving for a long-lived tunnel)
 * and marks that it did; a child must not inherit that choice (a Bun or JavaScriptCore program run with
 * `--exec` would silently lose its top JIT tier). A value the user set is theirs and passes untouched.
 */

/** JavaScriptCore's switch for its FTL tier, read by Bun at start-up. */
export const FTL_VARIABLE = "BUN_JSC_useFTLJIT";
/** `1` when bin/dbtunnel set FTL_VARIABLE itself (the caller had not): keep the names in step with it. */
export const FTL_SET_BY_WRAPPER = "DBTUNNEL_FTL_SET_BY_WRAPPER";

/** A copy of `env` without what bin/dbtunnel added to it; undefined values are left out. */
export function userEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined) out[name] = value;
  }
  if (out[FTL_SET_BY_WRAPPER] === "1") {
    delete out[FTL_SET_BY_WRAPPER];
    // The wrapper's value; anything else was set after it, on purpose.
    if (out[FTL_VARIABLE] === "0") delete out[FTL_VARIABLE];
  }
  return out;
}
