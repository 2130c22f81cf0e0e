import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configDir, LocalSecretError, loadOrCreateSecret, readSecret } from "./local-secret.ts";

const dir = mkdtempSync(join(tmpdir(), "dbtunnel-secret-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LocalSecretError);
    return (error as Error).message;
  }
  throw new Error("expected a LocalSecretError");
}

describe("local secret", () => {
  test("created once with mode 0600 in a 0700 directory, then read back unchanged", () => {
    const path = join(dir, "fresh", "proxy-secret");
    const first = loadOrCreateSecret(path);
    expect(first.created).toBe(true);
    expect(first.secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "fresh")).mode & 0o777).toBe(0o700);
    expect(loadOrCreateSecret(path)).toEqual({ secret: first.secret, created: false });
  });

  test("two users' config directories hold different secrets", () => {
    const a = loadOrCreateSecret(join(dir, "a", "proxy-secret")).secret;
    const b = loadOrCreateSecret(join(dir, "b", "proxy-secret")).secret;
    expect(a).not.toBe(b);
  });

  test("a file others can read, a damaged file and a directory are refused with the fix", () => {
    const open = join(dir, "open-secret");
    writeFileSync(open, "A".repeat(32));
    chmodSync(open, 0o644);
    expect(failure(() => readSecret(open))).toBe(
      `The proxy's local secret ${open} is readable by other users (mode 644): run 'chmod 600 ${open}' (or delete it to get a new secret).`,
    );
    const damaged = join(dir, "damaged-secret");
    writeFileSync(damaged, "short\n", { mode: 0o600 });
    expect(failure(() => readSecret(damaged))).toContain("is damaged");
    expect(failure(() => readSecret(dir))).toContain("is not a regular file");
    expect(readSecret(join(dir, "missing"))).toBeUndefined();
  });

  test("the config directory: DBTUNNEL_CONFIG_DIR, else XDG_CONFIG_HOME, else ~/.config", () => {
    expect(configDir({ DBTUNNEL_CONFIG_DIR: "/x" })).toBe("/x");
    expect(configDir({ XDG_CONFIG_HOME: "/cfg", HOME: "/home/e" })).toBe("/cfg/dbtunnel");
    expect(configDir({ HOME: "/home/e" })).toBe("/home/e/.config/dbtunnel");
  });
});
