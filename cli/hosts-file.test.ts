import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError } from "./errors.ts";
import { parseHosts } from "./hosts-block.ts";
import { addHostsEntry, assertHostsFileWritable, healHostsFile, pidAlive } from "./hosts-file.ts";

const dir = mkdtempSync(join(tmpdir(), "dbtunnel-hosts-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
chmodSync(dir, 0o755);
const original = "127.0.0.1 localhost\n# keep me\n10.1.2.3 printer";

describe("hosts file editing", () => {
  test("add and remove leave the file byte for byte and keep its mode", () => {
    const path = join(dir, "hosts-a");
    writeFileSync(path, original, { mode: 0o644 });
    const entry = addHostsEntry(path, ["db.example.rds.amazonaws.com"]);
    const during = readFileSync(path, "utf8");
    expect(during).toContain(
      `# >>> dbtunnel pid=${process.pid} nl >>>\n127.0.0.1 db.example.rds.amazonaws.com\n`,
    );
    entry.remove();
    entry.remove(); // idempotent
    expect(readFileSync(path, "utf8")).toBe(original);
    expect(Bun.file(path).size).toBe(original.length);
  });

  test("a dead run's block is healed by the next run", () => {
    const path = join(dir, "hosts-b");
    writeFileSync(
      path,
      `${original}\n# >>> dbtunnel pid=2147480000 >>>\n127.0.0.1 stale.example\n# <<< dbtunnel pid=2147480000 <<<\n`,
    );
    expect(pidAlive(2147480000)).toBe(false);
    healHostsFile(path);
    expect(readFileSync(path, "utf8")).toBe(`${original}\n`);
  });

  test("concurrent runs in separate processes each get and remove their own block (no lost update)", async () => {
    const path = join(dir, "hosts-c");
    const release = join(dir, "release");
    writeFileSync(path, original);
    const script = `
      import { existsSync } from "node:fs";
      import { addHostsEntry } from ${JSON.stringify(join(import.meta.dir, "hosts-file.ts"))};
      const e = addHostsEntry(process.argv[2], ["h" + process.pid]);
      while (!existsSync(process.argv[3])) await Bun.sleep(10);
      e.remove();`;
    const file = join(dir, "writer.ts");
    writeFileSync(file, script);
    const children = Array.from({ length: 6 }, () =>
      Bun.spawn([process.execPath, file, path, release], { stderr: "pipe" }),
    );
    const deadline = Date.now() + 10_000;
    let blocks = 0;
    while (Date.now() < deadline) {
      blocks = parseHosts(readFileSync(path, "utf8")).blocks.length;
      if (blocks === 6) break;
      await Bun.sleep(20);
    }
    expect(blocks).toBe(6);
    expect(parseHosts(readFileSync(path, "utf8")).base).toBe(original);
    writeFileSync(release, "");
    const codes = await Promise.all(children.map((c) => c.exited));
    expect(codes).toEqual([0, 0, 0, 0, 0, 0]);
    expect(readFileSync(path, "utf8")).toBe(original);
  });

  test("a crash (uncaught exception) still removes the block through the exit cleanup", () => {
    const path = join(dir, "hosts-crash");
    writeFileSync(path, original);
    const script = join(dir, "crash.ts");
    writeFileSync(
      script,
      `import { addHostsEntry } from ${JSON.stringify(join(import.meta.dir, "hosts-file.ts"))};
       import { installLifecycle, onExit } from ${JSON.stringify(join(import.meta.dir, "lifecycle.ts"))};
       installLifecycle();
       const entry = addHostsEntry(process.argv[2], ["crash.example"]);
       onExit(() => entry.remove());
       setTimeout(() => { throw new Error("boom"); }, 10);`,
    );
    const run = Bun.spawnSync([process.execPath, script, path], { stderr: "pipe" });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr.toString()).toContain("boom");
    expect(readFileSync(path, "utf8")).toBe(original);
  });

  test("no permission: one line with the sudo hint", () => {
    const path = join(dir, "hosts-ro");
    writeFileSync(path, original);
    // Root ignores file modes, so check as an unprivileged user when we are root.
    if (process.getuid?.() === 0) {
      const run = Bun.spawnSync(
        [
          "runuser",
          "-u",
          "nobody",
          "--",
          process.execPath,
          "-e",
          `
          const { assertHostsFileWritable } = await import(${JSON.stringify(join(import.meta.dir, "hosts-file.ts"))});
          try { assertHostsFileWritable(${JSON.stringify(path)}); } catch (e) { console.log(e.message); }`,
        ],
        { stdout: "pipe", stderr: "pipe" },
      );
      expect(run.stdout.toString()).toContain(`No permission to write ${path}: rerun with sudo`);
    } else {
      chmodSync(path, 0o444);
      expect(() => assertHostsFileWritable(path)).toThrow(CliError);
    }
    expect(() => assertHostsFileWritable(join(dir, "missing"))).toThrow("does not exist");
  });

  test("bytes that are not UTF-8 are kept byte for byte", () => {
    const path = join(dir, "hosts-latin1");
    const bytes = Buffer.concat([
      Buffer.from("127.0.0.1 localhost # caf"),
      Buffer.from([0xe9, 0xff, 0xfe, 0x80]),
      Buffer.from("\n10.0.0.9 nas\n"),
    ]);
    writeFileSync(path, bytes);
    const entry = addHostsEntry(path, ["db.example.rds.amazonaws.com"]);
    expect(readFileSync(path).subarray(0, bytes.length).equals(bytes)).toBe(true);
    entry.remove();
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  test("a symlinked hosts file is written through: the link stays a link, its target gets the block", () => {
    const target = join(dir, "managed-hosts");
    const link = join(dir, "hosts-link");
    writeFileSync(target, original);
    symlinkSync(target, link);
    const entry = addHostsEntry(link, ["db.example.rds.amazonaws.com"]);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, "utf8")).toContain("127.0.0.1 db.example.rds.amazonaws.com\n");
    entry.remove();
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, "utf8")).toBe(original);
  });

  test("a link planted at the old predictable temp name is not followed, and no temp file is left", () => {
    const sub = mkdtempSync(join(dir, "planted-"));
    const path = join(sub, "hosts");
    const victim = join(dir, "victim");
    writeFileSync(path, original);
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, join(sub, `.hosts.dbtunnel-${process.pid}.tmp`));
    const entry = addHostsEntry(path, ["db.example.rds.amazonaws.com"]);
    entry.remove();
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(readFileSync(path, "utf8")).toBe(original);
    expect(readdirSync(sub).sort()).toEqual([`.hosts.dbtunnel-${process.pid}.tmp`, "hosts"]);
  });

  test("a name with a newline, a space or a comment cannot add a line or a name; the file is untouched", () => {
    const path = join(dir, "hosts-crafted");
    writeFileSync(path, original);
    for (const crafted of [
      "db.example.com\n203.0.113.66 github.com",
      "db.example.com github.com",
      "db.example.com#",
      "db.example.com\r",
      "",
    ]) {
      expect(() => addHostsEntry(path, [crafted]), JSON.stringify(crafted)).toThrow(CliError);
    }
    expect(() => addHostsEntry(path, ["db.example.com"], "203.0.113.66")).toThrow("only loopback");
    expect(readFileSync(path, "utf8")).toBe(original);
  });
});
