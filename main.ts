/**
 * The CDKTF app (`cdktf synth|deploy` runs `bun run main.ts`). Reads the config from DBTUNNEL_CONFIG or
 * ./dbtunnel.config.json, applies the test-stack overrides (DBTUNNEL_STACK_NAME,
 * DBTUNNEL_DELETION_PROTECTION), builds one stack per environment and synthesizes.
 */

import { InvalidPropsError } from "./modules/props-error.ts";
import { buildApp } from "./stacks/app.ts";
import { ConfigError, loadConfig } from "./stacks/config.ts";
import { applyEnvOverrides } from "./stacks/env-overrides.ts";

const configPath = process.env.DBTUNNEL_CONFIG ?? "dbtunnel.config.json";
try {
  const config = applyEnvOverrides(loadConfig(configPath), process.env);
  for (const stack of config.stacks) {
    if (stack.database.mode === "create" && !stack.database.deletionProtection) {
      console.warn(
        `dbtunnel: warning: ${stack.name}: database deletion protection is OFF (test stacks only)`,
      );
    }
  }
  buildApp(config).synth();
} catch (error) {
  // Config, props and policy errors are the user's to fix: print the message, not a stack trace.
  if (!process.env.DBTUNNEL_VERBOSE) {
    const known = error instanceof ConfigError || error instanceof InvalidPropsError;
    const message = error instanceof Error ? error.message : String(error);
    console.error(
      `dbtunnel: ${known ? message : message.replace(/\n\nIf you wish to ignore these validations[\s\S]*$/, "")}`,
    );
    if (!known) console.error("dbtunnel: set DBTUNNEL_VERBOSE=1 for the stack trace");
    process.exit(1);
  }
  throw error;
}
