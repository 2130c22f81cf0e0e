/**
 * How to write "run dbtunnel again" in a command this process prints (the demo's next steps, the sandbox
 * hints), so that the line runs as written where the user is:
 * - a standalone executable: the name it was invoked by (`dbtunnel` on PATH, or `./dbtunnel-linux-x64`);
 * - run from the clone (npm run demo, npx dbtunnel, bin/dbtunnel): `npx dbtunnel` inside the clone (npx
 *   runs the project's own bin there, nothing is downloaded), else the absolute path of bin/dbtunnel.
 */
import { dirname, join, relative, resolve } from "node:path";
import { standaloneBuild } from "./version.ts";

const projectRoot = resolve(dirname(import.meta.path), "..");

export function selfCommand(
  context: { readonly argv0: string; readonly cwd: string; readonly standalone: boolean } = {
    argv0: process.argv0,
    cwd: process.cwd(),
    standalone: standaloneBuild() !== undefined,
  },
): string {
  if (context.standalone) return context.argv0.includes("/") ? shellWord(context.argv0) : "dbtunnel";
  const inClone = !relative(projectRoot, context.cwd).startsWith("..");
  return inClone ? "npx dbtunnel" : shellWord(join(projectRoot, "bin", "dbtunnel"));
}

/** A path as one shell word (quoted only when it needs to be). */
function shellWord(text: string): string {
  return /^[\w./+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
