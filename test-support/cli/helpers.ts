/** Helpers for the CLI's subprocess tests: long-running commands (--listen) and leak checks. */

import { expect } from "bun:test";
import { join } from "node:path";
import { cleanEnv } from "./fixtures.ts";

const projectRoot = join(import.meta.dir, "../..");
export const CLI = [process.execPath, join(projectRoot, "cli/main.ts")];
export const BIN_DIR = join(projectRoot, "bin");

export interface LiveCli {
  readonly pid: number;
  /** Resolves with stdout so far once `predicate` holds (rejects after the timeout). */
  waitForStdout(predicate: (stdout: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves once `predicate` holds for stderr so far. */
  waitForStderr(predicate: (stderr: string) => boolean, timeoutMs?: number): Promise<string>;
  stdout(): string;
  stderr(): string;
  kill(signal: NodeJS.Signals): void;
  readonly exited: Promise<number>;
}

export function startCli(args: readonly string[], env: Record<string, string | undefined>): LiveCli {
  const child = Bun.spawn([...CLI, ...args], {
    env: cleanEnv(env),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    cwd: projectRoot,
  });
  let out = "";
  let err = "";
  const pump = async (stream: ReadableStream<Uint8Array>, add: (text: string) => void) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  };
  const pumps = Promise.all([pump(child.stdout, (t) => (out += t)), pump(child.stderr, (t) => (err += t))]);
  const safety = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const exited = child.exited.then(async (code) => {
    clearTimeout(safety);
    await pumps;
    return code;
  });
  return {
    pid: child.pid,
    async waitForStdout(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(out)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(
            `CLI did not produce the expected output (exit ${child.exitCode}).\nstdout: ${out}\nstderr: ${err}`,
          );
        }
        await Bun.sleep(25);
      }
      return out;
    },
    async waitForStderr(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(err)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(
            `CLI did not print the expected progress (exit ${child.exitCode}).\nstderr: ${err}`,
          );
        }
        await Bun.sleep(25);
      }
      return err;
    },
    stdout: () => out,
    stderr: () => err,
    kill: (signal) => child.kill(signal),
    exited,
  };
}

/** Output must never show a token or the session credentials. */
export function expectNoSecrets(text: string, env: Record<string, string>): void {
  expect(text).not.toContain("X-Amz-Signature=");
  expect(text).not.toContain("Action=connect&DBUser");
  if (env.AWS_SECRET_ACCESS_KEY) expect(text).not.toContain(env.AWS_SECRET_ACCESS_KEY);
  if (env.AWS_SESSION_TOKEN) expect(text).not.toContain(env.AWS_SESSION_TOKEN.slice(0, 40));
}

/** The failure line: the last non-empty stderr line, starting with "dbtunnel:", no stack trace anywhere. */
export function failureLine(stderr: string): string {
  expect(stderr).not.toMatch(/^\s+at /m);
  const lines = stderr.split("\n").filter((l) => l.trim() !== "");
  const last = lines.at(-1) ?? "";
  expect(last.startsWith("dbtunnel: ")).toBe(true);
  return last.slice("dbtunnel: ".length);
}
