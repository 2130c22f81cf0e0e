/**
 * The per-user local secret that a database GUI saves as its password for the proxy. It keeps other OS
 * users of the same machine from borrowing the engineer's database identity through the 127.0.0.1 port:
 * only someone who can read this 0600 file (the engineer, or root) can log in through the proxy.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const SECRET_FILE_NAME = "proxy-secret";
/** 24 random bytes as base64url: 32 characters, no quoting needed in any GUI or connection string. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{32,128}$/;

/** `DBTUNNEL_CONFIG_DIR`, else `$XDG_CONFIG_HOME/dbtunnel`, else `~/.config/dbtunnel`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DBTUNNEL_CONFIG_DIR) return env.DBTUNNEL_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config"), "dbtunnel");
}

export function secretPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), SECRET_FILE_NAME);
}

/** Why the secret file cannot be used; the message says what to do. */
export class LocalSecretError extends Error {
  override readonly name = "LocalSecretError";
}

/**
 * Reads the secret, creating it (and its directory, 0700) on first use. Refuses a file that others can
 * read or that belongs to someone else, since then it protects nothing.
 */
export function loadOrCreateSecret(path: string): { secret: string; created: boolean } {
  const existing = readSecret(path);
  if (existing !== undefined) return { secret: existing, created: false };
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  const secret = randomBytes(24).toString("base64url");
  let fd: number;
  try {
    // 'wx': never overwrite a secret another dbtunnel process created in the meantime.
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      const raced = readSecret(path);
      if (raced !== undefined) return { secret: raced, created: false };
    }
    throw new LocalSecretError(
      `Cannot create the proxy's local secret ${path} (${(error as Error).message}): make its directory writable or set DBTUNNEL_CONFIG_DIR.`,
    );
  }
  try {
    writeSync(fd, `${secret}\n`);
  } finally {
    closeSync(fd);
  }
  return { secret, created: true };
}

/** The secret, or undefined if the file does not exist. Throws on an unsafe or damaged file. */
export function readSecret(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new LocalSecretError(
      `Cannot read the proxy's local secret ${path} (${(error as Error).message}): check its owner and permissions.`,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new LocalSecretError(`${path} is not a regular file: remove it.`);
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) {
      throw new LocalSecretError(
        `The proxy's local secret ${path} belongs to uid ${stat.uid}, not you (uid ${uid}): remove it so a new one is created.`,
      );
    }
    if ((stat.mode & 0o077) !== 0) {
      throw new LocalSecretError(
        `The proxy's local secret ${path} is readable by other users (mode ${(stat.mode & 0o777).toString(8)}): run 'chmod 600 ${path}' (or delete it to get a new secret).`,
      );
    }
    const secret = readFileSync(fd, "utf8").trim();
    if (!SECRET_PATTERN.test(secret)) {
      throw new LocalSecretError(
        `The proxy's local secret ${path} is damaged (expected 32-128 characters of A-Z a-z 0-9 _ -): delete it so a new one is created.`,
      );
    }
    return secret;
  } finally {
    closeSync(fd);
  }
}

/** For checks that do not need the value: does a secret exist at `path`? */
export function secretExists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
