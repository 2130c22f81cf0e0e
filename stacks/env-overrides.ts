import { ConfigError, type DbtunnelConfig, type StackConfig } from "./config.ts";

/**
 * Environment overrides for test stacks (the sandbox and e2e deploy the default stack with a unique name
 * per run and without deletion protection):
 * - `DBTUNNEL_STACK_NAME`: renames the single configured stack (error when the config has several).
 * - `DBTUNNEL_DELETION_PROTECTION=false|true`: overrides `database.deletionProtection` of every stack
 *   that creates its database.
 */
export function applyEnvOverrides(
  config: DbtunnelConfig,
  env: Record<string, string | undefined>,
): DbtunnelConfig {
  let stacks: StackConfig[] = [...config.stacks];
  const name = env.DBTUNNEL_STACK_NAME;
  if (name !== undefined && name !== "") {
    if (stacks.length !== 1) {
      throw new ConfigError(
        "DBTUNNEL_STACK_NAME",
        `is set but the config has ${stacks.length} stacks`,
        "unset it or keep one stack in the config",
      );
    }
    if (!/^[a-z][a-z0-9-]{1,38}[a-z0-9]$/.test(name)) {
      throw new ConfigError(
        "DBTUNNEL_STACK_NAME",
        `"${name}" is not a valid stack name`,
        "use 3-40 lowercase letters, digits and hyphens, starting with a letter",
      );
    }
    stacks = stacks.map((s) => ({
      ...s,
      name,
      backend: s.backend && { ...s.backend, key: `dbtunnel/${name}.tfstate` },
    }));
  }
  const protection = env.DBTUNNEL_DELETION_PROTECTION;
  if (protection !== undefined && protection !== "") {
    if (protection !== "true" && protection !== "false") {
      throw new ConfigError("DBTUNNEL_DELETION_PROTECTION", `is "${protection}"`, 'use "true" or "false"');
    }
    stacks = stacks.map((s) =>
      s.database.mode === "create"
        ? { ...s, database: { ...s.database, deletionProtection: protection === "true" } }
        : s,
    );
  }
  return { ...config, stacks };
}
