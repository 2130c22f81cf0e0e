#!/usr/bin/env bun
/**
 * Runs a command (typically `cdktf synth|deploy|destroy`) with the project's Terraform CLI config, so
 * `npm run deploy` works the same on a laptop, a CI runner and the offline build machines.
 */
import { cdktfArgs, providerMirror, terraformEnv } from "../stacks/terraform-env.ts";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: bun scripts/with-terraform-env.ts <command> [args...]");
  process.exit(2);
}
// cdktf with a provider mirror must not run its registry-only provider lock step (stacks/terraform-env.ts).
const argv = command === "cdktf" ? cdktfArgs(args, providerMirror()) : args;
const child = Bun.spawn([command, ...argv], {
  env: { ...process.env, ...terraformEnv() },
  stdio: ["inherit", "inherit", "inherit"],
});
process.exit(await child.exited);
