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
  buildApp(config).synth();
} catch (error) {
  if ((error instanceof ConfigError || error instanceof InvalidPropsError) && !process.env.DBTUNNEL_VERBOSE) {
    console.error(`dbtunnel: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
