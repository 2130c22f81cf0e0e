import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkExecutableFormat, expectedFormat, readExecutableFormat } from "./executable-format.ts";

function elf(machine: number): Uint8Array {
  const b = new Uint8Array(64);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]); // ELF, 64-bit, little endian
  new DataView(b.buffer).setUint16(0x12, machine, true);
  return b;
}
function machO(cpu: number): Uint8Array {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0xfeedfacf, true);
  v.setUint32(4, cpu, true);
  return b;
}
function pe(machine: number): Uint8Array {
  const b = new Uint8Array(256);
  const v = new DataView(b.buffer);
  b.set([0x4d, 0x5a]);
  v.setUint32(0x3c, 0x80, true);
  v.setUint32(0x80, 0x50450000);
  v.setUint16(0x84, machine, true);
  return b;
}

describe("executable format", () => {
  test("reads ELF, Mach-O and PE headers and their CPU", () => {
    expect(readExecutableFormat(elf(0x3e))).toEqual({ format: "ELF", arch: "x64" });
    expect(readExecutableFormat(elf(0xb7))).toEqual({ format: "ELF", arch: "arm64" });
    expect(readExecutableFormat(machO(0x01000007))).toEqual({ format: "Mach-O", arch: "x64" });
    expect(readExecutableFormat(machO(0x0100000c))).toEqual({ format: "Mach-O", arch: "arm64" });
    expect(readExecutableFormat(pe(0x8664))).toEqual({ format: "PE", arch: "x64" });
    expect(readExecutableFormat(elf(0x28))).toEqual({ format: "ELF", arch: "unknown (40)" });
  });

  test("a script or a truncated file is no executable", () => {
    expect(readExecutableFormat(new TextEncoder().encode("#!/bin/sh\necho hi\n"))).toBeUndefined();
    expect(readExecutableFormat(new Uint8Array([0x4d, 0x5a]))).toBeUndefined();
  });

  test("each target's expected format", () => {
    expect(expectedFormat("linux-arm64")).toEqual({ format: "ELF", arch: "arm64" });
    expect(expectedFormat("darwin-x64")).toEqual({ format: "Mach-O", arch: "x64" });
    expect(expectedFormat("windows-x64")).toEqual({ format: "PE", arch: "x64" });
  });

  test("checkExecutableFormat passes the right file and names the mismatch otherwise", () => {
    const dir = mkdtempSync(join(tmpdir(), "dbtunnel-format-"));
    try {
      const file = join(dir, "dbtunnel-linux-arm64");
      writeFileSync(file, elf(0xb7));
      expect(checkExecutableFormat(file, "linux-arm64")).toEqual({ format: "ELF", arch: "arm64" });
      expect(() => checkExecutableFormat(file, "linux-x64")).toThrow(
        `${file} is ELF arm64, expected ELF x64 for linux-x64`,
      );
      expect(() => checkExecutableFormat(file, "darwin-arm64")).toThrow("expected Mach-O arm64");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the machine's own compiled Bun is what linux-x64 expects (a real header, not only synthetic ones)", () => {
    if (process.platform !== "linux" || process.arch !== "x64") return;
    expect(checkExecutableFormat(process.execPath, "linux-x64")).toEqual({ format: "ELF", arch: "x64" });
  });
});
