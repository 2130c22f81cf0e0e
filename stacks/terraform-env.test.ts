import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cdktfArgs, providerMirror, terraformEnv } from "./terraform-env.ts";

const dir = mkdtempSync(join(tmpdir(), "dbtunnel-tfenv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("cdktf arguments under a provider mirror", () => {
  test("deploy, destroy and diff skip cdktf's registry-only provider lock step", () => {
    for (const sub of ["deploy", "destroy", "diff"]) {
      expect(cdktfArgs([sub, "dbtunnel-dev"], "/opt/tf-plugins")).toEqual([
        sub,
        "dbtunnel-dev",
        "--skip-provider-lock",
      ]);
    }
  });

  test("the flag goes before a '--' and is never doubled", () => {
    expect(cdktfArgs(["deploy", "x", "--", "y"], "/m")).toEqual([
      "deploy",
      "x",
      "--skip-provider-lock",
      "--",
      "y",
    ]);
    expect(cdktfArgs(["deploy", "--skip-provider-lock"], "/m")).toEqual(["deploy", "--skip-provider-lock"]);
  });

  test("not applicable: synth, or the public registry (no mirror) keeps cdktf's lock step", () => {
    expect(cdktfArgs(["synth"], "/opt/tf-plugins")).toEqual(["synth"]);
    expect(cdktfArgs(["deploy", "x"], null)).toEqual(["deploy", "x"]);
  });
});

describe("provider mirror selection", () => {
  test("DBTUNNEL_TF_MIRROR names the mirror; set empty, it selects the public registry", () => {
    const saved = process.env.DBTUNNEL_TF_MIRROR;
    try {
      process.env.DBTUNNEL_TF_MIRROR = "/srv/mirror";
      expect(providerMirror()).toBe("/srv/mirror");
      process.env.DBTUNNEL_TF_MIRROR = "";
      expect(providerMirror()).toBeNull();
      const env = terraformEnv({ stateDir: dir });
      expect(readFileSync(env.TF_CLI_CONFIG_FILE ?? "", "utf8")).toContain("direct {}");
    } finally {
      if (saved === undefined) delete process.env.DBTUNNEL_TF_MIRROR;
      else process.env.DBTUNNEL_TF_MIRROR = saved;
    }
  });
});

test("npm run deploy (scripts/with-terraform-env.ts) hands cdktf the mirror config and the skip flag", async () => {
  // A stand-in cdktf on PATH records what the script runs it with.
  const bin = join(dir, "bin");
  const record = join(dir, "record.txt");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, "cdktf"),
    `#!/bin/sh\nprintf '%s\\n' "$*" > ${JSON.stringify(record)}\ncat "$TF_CLI_CONFIG_FILE" >> ${JSON.stringify(record)}\n`,
  );
  chmodSync(join(bin, "cdktf"), 0o755);
  const script = resolve(import.meta.dir, "../scripts/with-terraform-env.ts");
  const child = Bun.spawn([process.execPath, script, "cdktf", "deploy", "dbtunnel-dev"], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir, DBTUNNEL_TF_MIRROR: "/opt/tf-plugins" },
    stdout: "pipe",
    stderr: "pipe",
  });
  expect(await child.exited).toBe(0);
  const [args, ...config] = readFileSync(record, "utf8").split("\n");
  expect(args).toBe("deploy dbtunnel-dev --skip-provider-lock");
  expect(config.join("\n")).toContain('path    = "/opt/tf-plugins"');
});
