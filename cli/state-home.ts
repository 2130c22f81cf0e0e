/**
 * DBTUNNEL_HOME (where the sandbox keeps its state) checked before anything is written: an unusable value
 * is one line naming it and the fix, not a stack trace from deep inside the sandbox. Nothing is created
 * by the check itself.
 */
import { accessSync, constants, statSync } from "node:fs";
import { dirname, isAbsolute } from "node:path";
import { printable } from "../contract/values.ts";
import { hasControlCharacter } from "./args.ts";
import { CliError } from "./errors.ts";

export function assertUsableHome(env: NodeJS.ProcessEnv = process.env): void {
  const home = env.DBTUNNEL_HOME;
  if (home === undefined || home === "") return;
  const fail = (problem: string): never => {
    throw new CliError(
      `DBTUNNEL_HOME=${printable(home)} ${problem}: set it to a directory you can write (an absolute path), or unset it to use ~/.local/state/dbtunnel.`,
      { code: "DbtunnelHome" },
    );
  };
  if (hasControlCharacter(home)) fail("contains a control character");
  if (!isAbsolute(home)) fail("is not an absolute path");
  // The nearest part of the path that exists must be a writable directory (the rest is created later).
  let probe = home;
  for (;;) {
    try {
      const st = statSync(probe);
      if (!st.isDirectory())
        fail(probe === home ? "is not a directory" : `lies under ${probe}, which is not a directory`);
      accessSync(probe, constants.W_OK | constants.X_OK);
      return;
    } catch (error) {
      if (error instanceof CliError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if ((code === "ENOENT" || code === "ENOTDIR") && dirname(probe) !== probe) {
        probe = dirname(probe);
        continue;
      }
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") fail(`is not writable (${probe})`);
      fail(`cannot be used (${code ?? "error"})`);
    }
  }
}
