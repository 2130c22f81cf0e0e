/**
 * Synthesizes the default stack and each variant and runs real `terraform init -backend=false` (offline,
 * from the provider mirror) + `terraform validate` on them. Catches what the JSON-level tests cannot:
 * wrong attribute names, missing required arguments, invalid references.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { parseConfig } from "./config.ts";
import { SecureDbAccessStack } from "./secure-db-access-stack.ts";
import { terraformEnv } from "./terraform-env.ts";

const base = {
  region: "us-east-1",
  network: { cidr: "10.40.0.0/16", availabilityZones: ["us-east-1a", "us-east-1b"] },
  database: { engine: "postgres", iamUsers: ["app_engineer"] },
};
const byoVpc = {
  existingVpc: {
    vpcId: "vpc-0123abcd",
    subnetIds: ["subnet-0123abcd", "subnet-4567abcd"],
    routeTableIds: ["rtb-0123abcd"],
  },
};

const VARIANTS: Record<string, Record<string, unknown>> = {
  "v-default": {},
  "v-ecs": {
    jumpHost: { kind: "ecs", containerImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/jump:1" },
  },
  "v-aurora": {
    profile: "production",
    database: { engine: "aurora-postgresql", iamUsers: ["app_engineer"] },
  },
  "v-mysql": { database: { engine: "mysql", iamUsers: ["app_engineer"], deletionProtection: false } },
  "v-aurora-mysql": {
    database: { engine: "aurora-mysql", iamUsers: ["app_engineer"], deletionProtection: false },
  },
  "v-byo-vpc": {
    network: byoVpc,
    access: { role: { trustedPrincipalArns: ["arn:aws:iam::123456789012:root"] }, groupName: "engineers" },
  },
  "v-byo-db": {
    network: byoVpc,
    database: {
      iamUsers: ["app_engineer"],
      existing: { identifier: "legacy-db", securityGroupId: "sg-0123abcd" },
    },
  },
  "v-internet": {
    network: { ...base.network, allowInternetEgress: true },
    sessionPreferences: { adoptExistingDocument: true },
  },
};

const workDir = mkdtempSync(join(tmpdir(), "dbtunnel-validate-"));
// No TF_PLUGIN_CACHE_DIR: from the unpacked filesystem mirror `init` only symlinks the provider (0.6 s),
// while a shared cache that parallel inits fill at once was seen left half-written on a fresh clone.
const env = { ...process.env, ...terraformEnv() } as Record<string, string>;

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function terraform(dir: string, args: string[]): Promise<{ code: number; output: string }> {
  const child = Bun.spawn(["terraform", `-chdir=${dir}`, ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, output: stdout + stderr };
}

/** Synthesizes one variant; policy enforcement is covered by the stack tests, not here. */
function synthVariant(name: string): string {
  const config = parseConfig({ stacks: [{ name, ...base, ...VARIANTS[name] }] });
  const app = new App({ outdir: join(workDir, "out") });
  new SecureDbAccessStack(app, name, { config: config.stacks[0] as never, enforcePolicy: false });
  app.synth();
  return join(workDir, "out", "stacks", name);
}

async function validate(dir: string): Promise<void> {
  const init = await terraform(dir, ["init", "-backend=false", "-input=false", "-no-color"]);
  expect(init.output).toContain("Terraform has been successfully initialized");
  const result = await terraform(dir, ["validate", "-no-color", "-json"]);
  const report = JSON.parse(result.output) as {
    valid: boolean;
    diagnostics: Array<{ severity: string; summary: string; detail?: string }>;
  };
  const errors = report.diagnostics
    .filter((d) => d.severity === "error")
    .map((d) => `${d.summary}: ${d.detail ?? ""}`);
  expect(errors).toEqual([]);
  expect(report.valid).toBe(true);
}

describe("terraform validate", () => {
  const names = Object.keys(VARIANTS);

  test("default stack", async () => {
    await validate(synthVariant("v-default"));
  }, 60_000);

  test(`variants: ${names.slice(1).join(", ")}`, async () => {
    const dirs = names.slice(1).map(synthVariant);
    // Two at a time: the build machines have two cores.
    for (let i = 0; i < dirs.length; i += 2) await Promise.all(dirs.slice(i, i + 2).map(validate));
  }, 120_000);
});
