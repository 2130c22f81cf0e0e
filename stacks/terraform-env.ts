import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

/**
 * Terraform must never read the user's home-directory CLI config: on the build machines it points at a
 * file that does not exist, and on engineers' machines it may carry credentials or mirrors we do not
 * expect. Every terraform / cdktf call the project makes goes through this environment instead.
 */

/** Where the machines keep the AWS provider for offline installs (see design.md, machine facts). */
export const DEFAULT_PROVIDER_MIRROR = "/opt/tf-plugins";

const projectRoot = resolve(dirname(new URL(import.meta.url).pathname), "..");

export interface TerraformEnvOptions {
  /**
   * Filesystem mirror holding `registry.terraform.io/hashicorp/aws`.
   * @default `DBTUNNEL_TF_MIRROR`, else `/opt/tf-plugins` when it exists, else none (public registry)
   */
  readonly providerMirror?: string | null;
  /** Directory for the generated CLI config. @default `<project>/.dbtunnel` */
  readonly stateDir?: string;
}

/** Writes the project's Terraform CLI config and returns the environment variables that select it. */
export function terraformEnv(options: TerraformEnvOptions = {}): Record<string, string> {
  const mirror =
    options.providerMirror === undefined
      ? (process.env.DBTUNNEL_TF_MIRROR ??
        (existsSync(DEFAULT_PROVIDER_MIRROR) ? DEFAULT_PROVIDER_MIRROR : null))
      : options.providerMirror;
  const dir = options.stateDir ?? join(projectRoot, ".dbtunnel");
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, mirror ? "terraform-mirror.tfrc" : "terraform-direct.tfrc");
  const body = mirror
    ? `# Written by dbtunnel: providers come only from the local mirror (no network needed).\nprovider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(mirror)}\n    include = ["registry.terraform.io/*/*"]\n  }\n}\n`
    : "# Written by dbtunnel: providers come from the public registry.\nprovider_installation {\n  direct {}\n}\n";
  writeFileSync(configFile, body);
  return {
    TF_CLI_CONFIG_FILE: configFile,
    CHECKPOINT_DISABLE: "1",
    TF_IN_AUTOMATION: "1",
  };
}
