#!/usr/bin/env bun
/**
 * Runs a command (typically `cdktf synth|deploy|destroy`) with the project's Terraform CLI config, so
 * `npm run deploy` works the same on a laptop, a CI runner and the offline build machines.
 */
import { terraformEnv } from "../stacks/terraform-env.ts";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: bun scripts/with-terraform-env.ts <command> [args...]");
  process.exit(2);
}
const child = Bun.spawn([command, ...args], {
  env: { ...process.env, ...terraformEnv() },
  stdio: ["inherit", "inherit", "inherit"],
});
process.exit(await child.exited);
