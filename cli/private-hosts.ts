/**
 * The no-sudo way to make a client without `hostaddr` (mysql, mariadb, JDBC tools...) resolve the RDS
 * endpoint to the tunnel: run it in a private mount namespace (Linux `unshare`) where a copy of /etc/hosts
 * with one extra line is bind-mounted over /etc/hosts. The machine's file is never written, nothing needs
 * cleaning up after a crash (the namespace dies with the client), and other programs see nothing.
 *
 * Root uses a plain mount namespace; anyone else a user namespace too (`unshare -r`: root inside, with no
 * power outside), and the client is then mapped back to the caller's own uid/gid by a nested user namespace,
 * so it runs as the engineer, not as a namespace root.
 *
 * Limits: Linux only (macOS has no mount namespaces: MySQL there uses the hosts-file mode with sudo); needs
 * unprivileged user namespaces (most distributions allow them; some hardened kernels or containers do not,
 * and then connect falls back to the hosts-file mode); the client sees the private file only if name
 * resolution reads /etc/hosts first (the nsswitch `files` default).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface PrivateHosts {
  /** The copy of /etc/hosts with the endpoint → 127.0.0.1 line. */
  readonly path: string;
  /** Removes the copy. Idempotent, synchronous. */
  remove(): void;
}

const MOUNT_SCRIPT = 'mount --bind "$0" /etc/hosts || exit 97';

function namespacePrefix(): { prefix: string[]; dropBack: string } {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return { prefix: ["unshare", "-m"], dropBack: 'exec "$@"' };
  const gid = process.getgid?.() ?? uid;
  return {
    prefix: ["unshare", "-r", "-m"],
    dropBack: `exec unshare --map-user=${uid} --map-group=${gid} -- "$@"`,
  };
}

/** `command` wrapped so that it runs in a private mount namespace seeing `hostsPath` as /etc/hosts. */
export function inPrivateHosts(command: readonly string[], hostsPath: string): string[] {
  const { prefix, dropBack } = namespacePrefix();
  return [...prefix, "sh", "-c", `${MOUNT_SCRIPT}; ${dropBack}`, hostsPath, ...command];
}

/** A private hosts file: the machine's entries plus `127.0.0.1 <names>`, readable by the caller only. */
export function writePrivateHosts(names: readonly string[], source = "/etc/hosts"): PrivateHosts {
  const dir = mkdtempSync(join(tmpdir(), "dbtunnel-hosts-"));
  const path = join(dir, "hosts");
  let machine = "";
  try {
    machine = readFileSync(source, "utf8");
  } catch {
    machine = "127.0.0.1 localhost\n";
  }
  const ending = machine === "" || machine.endsWith("\n") ? "" : "\n";
  writeFileSync(path, `${machine}${ending}# dbtunnel: this client only\n127.0.0.1 ${names.join(" ")}\n`, {
    mode: 0o644,
  });
  let removed = false;
  return {
    path,
    remove() {
      if (removed) return;
      removed = true;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let probed: Promise<boolean> | undefined;

/**
 * Whether this machine can run a client in a private hosts namespace: Linux, `unshare` on PATH, and a
 * bind mount over /etc/hosts in a new namespace actually succeeds (probed once per process, ~10 ms).
 */
export function privateHostsAvailable(): Promise<boolean> {
  probed ??= (async () => {
    if (process.platform !== "linux" || !Bun.which("unshare")) return false;
    const hosts = writePrivateHosts(["dbtunnel-probe.invalid"]);
    try {
      const proc = Bun.spawn({
        cmd: inPrivateHosts(["true"], hosts.path),
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      return (await proc.exited) === 0;
    } catch {
      return false;
    } finally {
      hosts.remove();
    }
  })();
  return probed;
}
