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

/**
 * The provider mirror in use: `DBTUNNEL_TF_MIRROR` (set it empty to use the public registry), else
 * /opt/tf-plugins when it exists, else none.
 */
export function providerMirror(options: TerraformEnvOptions = {}): string | null {
  if (options.providerMirror !== undefined) return options.providerMirror;
  const configured = process.env.DBTUNNEL_TF_MIRROR;
  if (configured !== undefined) return configured === "" ? null : configured;
  return existsSync(DEFAULT_PROVIDER_MIRROR) ? DEFAULT_PROVIDER_MIRROR : null;
}

/** cdktf subcommands that run `terraform providers lock` unless told not to. */
const LOCKING_SUBCOMMANDS = new Set(["deploy", "destroy", "diff"]);

/**
 * Arguments for a cdktf call under the project's Terraform config. With a filesystem mirror, cdktf's own
 * `terraform providers lock -platform=linux_amd64` step would still ask the public registry (that command
 * ignores the CLI config's mirrors) and fail offline with "Could not retrieve providers for locking": skip
 * it. `terraform init` still writes .terraform.lock.hcl, with the hashes of the mirrored packages.
 */
export function cdktfArgs(args: readonly string[], mirror: string | null): string[] {
  const [subcommand] = args;
  if (!mirror || !subcommand || !LOCKING_SUBCOMMANDS.has(subcommand)) return [...args];
  if (args.includes("--skip-provider-lock")) return [...args];
  const end = args.indexOf("--");
  return end === -1
    ? [...args, "--skip-provider-lock"]
    : [...args.slice(0, end), "--skip-provider-lock", ...args.slice(end)];
}

/** Writes the project's Terraform CLI config and returns the environment variables that select it. */
export function terraformEnv(options: TerraformEnvOptions = {}): Record<string, string> {
  const mirror = providerMirror(options);
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
