/**
 * `--hosts-file` mode: maps the database endpoint to 127.0.0.1 in /etc/hosts (or DBTUNNEL_HOSTS_FILE)
 * for the life of one run. Synchronous on purpose: removal must also work from process 'exit' handlers.
 *
 * Concurrency: every edit is read-modify-write under an exclusive lock file, and the new content replaces
 * the old one atomically (temp file + rename). A hosts file that is itself a mount point (Docker bind-mounts
 * /etc/hosts; our tests bind-mount a temp file in a private namespace) cannot be renamed over, so there the
 * content is written in place with a single write, still under the lock.
 *
 * Safety (this runs under sudo, and always for MySQL):
 * - every name and the address are validated before they reach the file: a value with a newline or a
 *   space (from a crafted outputs file or tag) cannot add a line or a name;
 * - the temp file has an unpredictable name and is created with O_CREAT|O_EXCL|O_NOFOLLOW, so a planted
 *   file or symlink at that name makes the edit fail instead of being followed;
 * - a symlinked hosts file is written through to its target (the link stays a link: distributions and
 *   configuration managers keep /etc/hosts as a link to a managed file, and replacing the link by a plain
 *   file would silently detach it). Run as root, the link is followed only if root or the invoking user
 *   (SUDO_UID) owns it: a link another user planted is refused with a line that says so;
 * - the file is handled as bytes (latin1 maps each byte to one character and back), so content that is
 *   not UTF-8 is kept byte for byte.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  accessSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  lstatSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { dnsNameProblem, printable } from "../contract/values.ts";
import { CliError } from "./errors.ts";
import { withBlock, withoutBlock } from "./hosts-block.ts";

export const DEFAULT_HOSTS_FILE = "/etc/hosts";
const LOCK_TIMEOUT_MS = 5_000;
/** A lock older than this is left over by a crash between open and unlink. */
const LOCK_STALE_MS = 30_000;

export function hostsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.DBTUNNEL_HOSTS_FILE || DEFAULT_HOSTS_FILE;
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface HostsEntry {
  readonly path: string;
  /** Removes this run's block. Idempotent, synchronous, never throws. */
  remove(): void;
}

/** Fails early (before any session is opened) when the hosts file cannot be edited. */
export function assertHostsFileWritable(path: string): void {
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw hostsError(path, error);
  }
}

/** Loopback literals a block may map names to. */
const LOOPBACK = /^(?:127(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}|::1)$/;

/** Refuses any name or address that could add a line, a name or a comment to the hosts file. */
export function assertHostsValues(hosts: readonly string[], address: string): void {
  if (!LOOPBACK.test(address)) {
    throw new CliError(
      `Refusing to map names to "${printable(address)}" in the hosts file: only loopback addresses are allowed.`,
      {
        code: "HostsFileValue",
      },
    );
  }
  if (hosts.length === 0)
    throw new CliError("No host name to add to the hosts file.", { code: "HostsFileValue" });
  for (const host of hosts) {
    const problem = dnsNameProblem(host);
    if (problem) {
      throw new CliError(
        `Refusing to write host name to the hosts file: it ${problem}. Check db_endpoint in the stack outputs.`,
        {
          code: "HostsFileValue",
        },
      );
    }
  }
}

/** Adds this process's block mapping `hosts` to `address`, healing blocks of dead runs on the way. */
export function addHostsEntry(path: string, hosts: readonly string[], address = "127.0.0.1"): HostsEntry {
  assertHostsValues(hosts, address);
  const pid = process.pid;
  editHostsFile(path, (text) => withBlock(text, { pid, hosts, address }, pidAlive));
  let removed = false;
  return {
    path,
    remove() {
      if (removed) return;
      removed = true;
      try {
        editHostsFile(path, (text) => withoutBlock(text, pid, pidAlive));
      } catch {
        // Best effort on exit paths; the next run heals a block whose pid is dead.
      }
    },
  };
}

/** Removes blocks of runs that died without cleaning up. Returns how many there were. */
export function healHostsFile(path: string): void {
  editHostsFile(path, (text) => withoutBlock(text, -1, pidAlive));
}

function editHostsFile(linkPath: string, edit: (text: string) => string): void {
  const path = writeTarget(linkPath);
  const release = acquireLock(path);
  try {
    let text: string;
    try {
      // latin1: one character per byte, so bytes that are not UTF-8 survive the edit unchanged.
      text = readFileSync(path).toString("latin1");
    } catch (error) {
      throw hostsError(path, error);
    }
    const next = edit(text);
    if (next !== text) writeReplacing(path, Buffer.from(next, "latin1"));
  } finally {
    release();
  }
}

/**
 * The file to edit: the hosts file itself, or the target of a symlinked one (written through, so the
 * link survives). Under root, a link owned by someone other than root or the sudo caller is refused.
 */
function writeTarget(path: string): string {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch (error) {
    throw hostsError(path, error);
  }
  if (!st.isSymbolicLink()) return path;
  if (process.getuid?.() === 0) {
    const sudoUid = Number(process.env.SUDO_UID ?? "0");
    if (st.uid !== 0 && st.uid !== sudoUid) {
      throw new CliError(
        `Refusing to edit ${path}: it is a symlink owned by uid ${st.uid}, neither root nor you. Remove the link or point DBTUNNEL_HOSTS_FILE at the real file.`,
        { code: "HostsFilePermission" },
      );
    }
  }
  try {
    return realpathSync(path);
  } catch (error) {
    throw hostsError(path, error);
  }
}

function writeReplacing(path: string, content: Buffer): void {
  if (!isMountPoint(path)) {
    // Unpredictable name, created exclusively and never through a symlink: a file or link planted in a
    // shared directory makes this attempt fail instead of redirecting the write.
    const tmp = join(dirname(path), `.${basenameOf(path)}.dbtunnel-${randomBytes(12).toString("hex")}.tmp`);
    let created = false;
    try {
      const st = statSync(path);
      const fd = openSync(
        tmp,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        st.mode & 0o7777,
      );
      created = true;
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      chmodSync(tmp, st.mode & 0o7777);
      if (process.getuid?.() === 0) chownSync(tmp, st.uid, st.gid);
      renameSync(tmp, path);
      return;
    } catch (error) {
      if (created) {
        try {
          unlinkSync(tmp);
        } catch {}
      }
      const code = (error as NodeJS.ErrnoException).code;
      // EBUSY/EXDEV: a mount point we did not detect; anything else is a real failure.
      if (code !== "EBUSY" && code !== "EXDEV" && code !== "EACCES" && code !== "EPERM") {
        throw hostsError(path, error);
      }
    }
  }
  try {
    writeFileSync(path, content);
  } catch (error) {
    throw hostsError(path, error);
  }
}

function isMountPoint(path: string): boolean {
  try {
    const real = realpathSync(path);
    const mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
    // Field 5 is the mount point, with spaces etc. octal-escaped.
    return mountinfo.split("\n").some((line) => line.split(" ")[4] === real.replace(/ /g, "\\040"));
  } catch {
    return false;
  }
}

function lockPath(path: string): string {
  // The lock lives outside the hosts file's directory so that nothing but the hosts file is touched in /etc.
  let real = path;
  try {
    real = realpathSync(path);
  } catch {}
  const hash = createHash("sha256").update(real).digest("hex").slice(0, 16);
  return join(tmpdir(), `dbtunnel-hosts-${hash}.lock`);
}

function acquireLock(path: string): () => void {
  const lock = lockPath(path);
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const fd = openSync(lock, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(lock);
        } catch {}
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw hostsError(lock, error);
    }
    if (lockIsStale(lock)) {
      try {
        unlinkSync(lock);
      } catch {}
      continue;
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `Timed out waiting for the hosts-file lock ${lock}: if no other dbtunnel is running, delete it and retry.`,
        { code: "HostsFileLocked" },
      );
    }
    Bun.sleepSync(10);
  }
}

function lockIsStale(lock: string): boolean {
  try {
    const owner = Number(readFileSync(lock, "utf8"));
    if (owner && !pidAlive(owner)) return true;
    return Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false;
  }
}

function hostsError(path: string, error: unknown): CliError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EROFS") {
    return new CliError(
      `${path} is on a read-only file system: drop --hosts-file to use the default mode (libpq hostaddr, no system change), or point DBTUNNEL_HOSTS_FILE at a writable hosts file.`,
      { code: "HostsFilePermission", cause: error },
    );
  }
  if (code === "EACCES" || code === "EPERM") {
    return new CliError(
      `No permission to write ${path}: rerun with sudo for --hosts-file, or drop --hosts-file to use the default mode (libpq hostaddr, no system change).`,
      { code: "HostsFilePermission", cause: error },
    );
  }
  if (code === "ENOENT") {
    return new CliError(`Hosts file ${path} does not exist: create it or set DBTUNNEL_HOSTS_FILE.`, {
      code: "HostsFileMissing",
      cause: error,
    });
  }
  return new CliError(`Cannot edit ${path} (${code ?? "error"}).`, { code: "HostsFile", cause: error });
}

function basenameOf(path: string): string {
  return path.split("/").pop() ?? "hosts";
}
