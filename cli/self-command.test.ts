import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { selfCommand } from "./self-command.ts";

const root = resolve(import.meta.dir, "..");

test("from the clone: npx dbtunnel inside it, the absolute bin/dbtunnel elsewhere", () => {
  expect(selfCommand({ argv0: "bun", cwd: root, standalone: false })).toBe("npx dbtunnel");
  expect(selfCommand({ argv0: "bun", cwd: join(root, "cli"), standalone: false })).toBe("npx dbtunnel");
  const elsewhere = selfCommand({ argv0: "bun", cwd: "/tmp", standalone: false });
  expect(elsewhere).toBe(join(root, "bin", "dbtunnel"));
  expect(existsSync(elsewhere)).toBe(true);
});

test("a standalone executable: the name it was invoked by", () => {
  expect(selfCommand({ argv0: "dbtunnel", cwd: "/tmp", standalone: true })).toBe("dbtunnel");
  expect(selfCommand({ argv0: "./dbtunnel-linux-x64", cwd: "/tmp", standalone: true })).toBe(
    "./dbtunnel-linux-x64",
  );
  expect(selfCommand({ argv0: "/opt/my tools/dbtunnel", cwd: "/", standalone: true })).toBe(
    "'/opt/my tools/dbtunnel'",
  );
});
