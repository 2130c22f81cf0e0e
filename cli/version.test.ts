import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLIENT_VERSION } from "../tunnel/version.ts";
import { buildInfo, gitCommit, VERSION, versionText } from "./version.ts";

test("the CLI's version is package.json's", () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dir, "..", "package.json"), "utf8")) as {
    version: string;
  };
  expect(VERSION).toBe(pkg.version);
});

test("from source: the clone's commit, and the Session Manager client version the tunnel announces", () => {
  const info = buildInfo();
  expect(info).toEqual({
    version: VERSION,
    commit: gitCommit(join(import.meta.dir, "..")),
    build: "source",
    sessionManagerClient: CLIENT_VERSION,
  });
  expect(info.commit).toMatch(/^[0-9a-f]{12}(\+dirty)?$/);
  expect(versionText({ ...info, commit: "0123456789ab", build: "darwin-arm64" })).toBe(
    `dbtunnel ${VERSION} (commit 0123456789ab, standalone darwin-arm64)\nSession Manager client ${CLIENT_VERSION} (the version announced to the agent)`,
  );
});

test("outside a git checkout the commit is 'unknown', not an error", () => {
  expect(gitCommit("/")).toBe("unknown");
});
