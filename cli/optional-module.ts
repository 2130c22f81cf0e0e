/**
 * Imports a module another part of the project provides (policy/, sandbox/, stacks/config.ts), turning
 * "file not there" into a one-line error instead of a resolver stack trace. The specifier is a variable so
 * the CLI type-checks and runs even while those parts are not built yet.
 */
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { CliError } from "./errors.ts";

const root = resolve(dirname(new URL(import.meta.url).pathname), "..");

export async function importProjectModule<T>(relativePath: string, what: string): Promise<T> {
  const absolute = resolve(root, relativePath);
  if (!existsSync(absolute)) {
    throw new CliError(`${what} is not part of this build (${relativePath} is missing): update dbtunnel.`, {
      code: "CommandMissing",
    });
  }
  return (await import(absolute)) as T;
}

export function projectRoot(): string {
  return root;
}
