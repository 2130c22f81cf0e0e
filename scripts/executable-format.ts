/**
 * Is a built file really an executable for its target? Reads the header: ELF (Linux), Mach-O (macOS) or
 * PE (Windows), and the CPU it declares. CI runs only the linux-x64 executable; for the others this is
 * the check that the cross-compile produced the right kind of file.
 */
import { closeSync, openSync, readSync } from "node:fs";

export const TARGETS = ["linux-x64", "linux-arm64", "darwin-x64", "darwin-arm64", "windows-x64"] as const;
export type Target = (typeof TARGETS)[number];

export interface ExecutableFormat {
  readonly format: "ELF" | "Mach-O" | "PE";
  readonly arch: "x64" | "arm64" | `unknown (${string})`;
}

const ELF_MACHINES: Record<number, "x64" | "arm64"> = { 62: "x64", 183: "arm64" };
const MACHO_CPUS: Record<number, "x64" | "arm64"> = { 16777223: "x64", 16777228: "arm64" };
const PE_MACHINES: Record<number, "x64" | "arm64"> = { 34404: "x64", 43620: "arm64" };

/** Reads the format from the first bytes of a file (an ELF/Mach-O/PE header fits in 4 KiB). */
export function readExecutableFormat(header: Uint8Array): ExecutableFormat | undefined {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.length >= 20 && view.getUint32(0) === 0x7f454c46) {
    // ELF: e_ident[EI_DATA] 1 = little endian; e_machine at 0x12.
    const machine = view.getUint16(0x12, header[5] === 1);
    return { format: "ELF", arch: ELF_MACHINES[machine] ?? `unknown (${machine})` };
  }
  if (header.length >= 8 && view.getUint32(0, true) === 0xfeedfacf) {
    // 64-bit Mach-O, little endian: cputype right after the magic.
    const cpu = view.getUint32(4, true);
    return { format: "Mach-O", arch: MACHO_CPUS[cpu] ?? `unknown (${cpu})` };
  }
  if (header.length >= 0x40 && header[0] === 0x4d && header[1] === 0x5a) {
    // MZ stub; e_lfanew at 0x3c points at "PE\0\0", then the COFF Machine field.
    const pe = view.getUint32(0x3c, true);
    if (pe + 6 <= header.length && view.getUint32(pe) === 0x50450000) {
      const machine = view.getUint16(pe + 4, true);
      return { format: "PE", arch: PE_MACHINES[machine] ?? `unknown (${machine})` };
    }
  }
  return undefined;
}

export function expectedFormat(target: Target): ExecutableFormat {
  const [os, arch] = target.split("-") as [string, "x64" | "arm64"];
  return { format: os === "linux" ? "ELF" : os === "darwin" ? "Mach-O" : "PE", arch };
}

/** Throws one line naming the file, what it is and what it should be. */
export function checkExecutableFormat(file: string, target: Target): ExecutableFormat {
  const fd = openSync(file, "r");
  const header = new Uint8Array(4096);
  let length: number;
  try {
    length = readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  const found = readExecutableFormat(header.subarray(0, length));
  const expected = expectedFormat(target);
  if (!found || found.format !== expected.format || found.arch !== expected.arch) {
    const what = found ? `${found.format} ${found.arch}` : "not an ELF, Mach-O or PE executable";
    throw new Error(`${file} is ${what}, expected ${expected.format} ${expected.arch} for ${target}`);
  }
  return found;
}
