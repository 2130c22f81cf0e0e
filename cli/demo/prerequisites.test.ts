import { expect, test } from "bun:test";
import { DEMO_TOOLS, missingToolsMessage } from "./prerequisites.ts";

test("nothing missing: no message", () => {
  expect(missingToolsMessage(() => "/usr/bin/x")).toBeUndefined();
});

test("a missing tool is named with its version and how to get it", () => {
  const message = missingToolsMessage((name) => (name === "terraform" ? null : `/usr/bin/${name}`));
  expect(message).toBe(
    "missing tools on PATH: terraform (1.11.x; https://developer.hashicorp.com/terraform/install (the binary on PATH; providers come from /opt/tf-plugins or the registry))",
  );
});

test("every tool the demo runs has a version and a hint", () => {
  for (const tool of DEMO_TOOLS) {
    expect(tool.version.length).toBeGreaterThan(0);
    expect(tool.hint.length).toBeGreaterThan(0);
  }
});
