import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

/** File name MariaDB loads (plugin_load_add) from the directory buildAuthPlugin returns. */
export const AUTH_PLUGIN_FILE = "aws_authentication_plugin.so";

const SOURCE = new URL("./aws_authentication_plugin.c", import.meta.url).pathname;

/**
 * Compiles the sandbox's AWSAuthenticationPlugin (see the .c file for why it exists) with the system C
 * compiler, once per source version: the result is cached under `cacheRoot` by the source's hash, written
 * to a temporary name and renamed, so parallel sandboxes share one build and never load half a file.
 * Returns the plugin directory (mode 0755, readable by the `mysql` OS user that runs MariaDB).
 */
export async function buildAuthPlugin(cacheRoot: string, compiler = process.env.CC ?? "cc"): Promise<string> {
  const source = await Bun.file(SOURCE).bytes();
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 16);
  const dir = join(cacheRoot, `mysql-plugin-${hash}`);
  const target = join(dir, AUTH_PLUGIN_FILE);
  if (existsSync(target)) return dir;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  const temp = `${target}.${process.pid}.tmp`;
  let code: number;
  let stderr: string;
  try {
    const proc = Bun.spawn({
      cmd: [compiler, "-O2", "-Wall", "-shared", "-fPIC", "-o", temp, SOURCE],
      stdout: "ignore",
      stderr: "pipe",
    });
    [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  } catch (error) {
    // Bun.spawn throws when the compiler itself is missing.
    [code, stderr] = [-1, error instanceof Error ? error.message : String(error)];
  }
  if (code !== 0) {
    rmSync(temp, { force: true });
    throw new Error(
      `could not compile the sandbox's MySQL IAM authentication plugin with ${compiler} (install a C compiler: apt-get install gcc libc6-dev): ${stderr.trim().split("\n").slice(0, 2).join(" | ")}`,
    );
  }
  chmodSync(temp, 0o644);
  renameSync(temp, target);
  return dir;
}
