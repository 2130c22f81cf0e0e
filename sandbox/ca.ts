import { chmodSync, chownSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SandboxCa {
  /** The CA certificate; plays the RDS CA bundle (DBTUNNEL_CA_BUNDLE). */
  readonly caCertPath: string;
  /** PostgreSQL's server certificate and key, valid for the RDS endpoint names of `region`. */
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  /** DNS names in the server certificate as first issued (see issueServerCertificate for more). */
  readonly serverNames: readonly string[];
  /** Sandbox directory holding the files. */
  readonly dir: string;
}

export interface CreateCaOptions {
  readonly dir: string;
  readonly region: string;
  /** Owner of the server key (PostgreSQL refuses a key it does not own or that others can read). */
  readonly keyOwner?: { readonly uid: number; readonly gid: number };
  /** Certificate lifetime. @default 7 */
  readonly days?: number;
}

/**
 * RDS instance endpoint names moto hands out (`<id>.aaaaaaaaaa.<region>.rds.amazonaws.com`). Wildcards
 * only, and deliberately not localhost or 127.0.0.1: verify-full through the tunnel must check the RDS
 * name, like real RDS. Aurora cluster endpoints carry a random part per cluster
 * (`<id>.cluster-<random>.<region>...`): the RDS mirror adds those with issueServerCertificate.
 */
export function rdsServerNames(region: string): string[] {
  return [`*.aaaaaaaaaa.${region}.rds.amazonaws.com`];
}

/** The wildcard name that covers `host` (libpq verify-full accepts a wildcard in the leftmost label). */
export function wildcardFor(host: string): string {
  const dot = host.indexOf(".");
  return dot > 0 ? `*${host.slice(dot).toLowerCase()}` : host.toLowerCase();
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const proc = Bun.spawn({ cmd: ["openssl", ...args], cwd, stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${stderr.trim().split("\n")[0] ?? ""}`);
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * (Re-)issues the server certificate for `names`, signed by the sandbox CA, keeping the server key.
 * The new certificate replaces server.pem atomically, so a PostgreSQL reload never reads half a file.
 */
export async function issueServerCertificate(dir: string, names: readonly string[], days = 7): Promise<void> {
  const [first] = names;
  if (!first) throw new Error("a server certificate needs at least one name");
  writeFileSync(
    join(dir, "server.ext"),
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
      "",
    ].join("\n"),
  );
  await openssl(["req", "-new", "-key", "server.key", "-out", "server.csr", "-subj", `/CN=${first}`], dir);
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      String(days),
      "-extfile",
      "server.ext",
      "-out",
      "server.pem.new",
    ],
    dir,
  );
  chmodSync(join(dir, "server.pem.new"), 0o644);
  renameSync(join(dir, "server.pem.new"), join(dir, "server.pem"));
}

/**
 * A throwaway CA per sandbox (EC P-256: generating it takes milliseconds) and a server certificate signed
 * by it. The CA key never leaves the sandbox directory and dies with it.
 */
export async function createSandboxCa(opts: CreateCaOptions): Promise<SandboxCa> {
  const { dir, region } = opts;
  const days = opts.days ?? 7;
  const names = rdsServerNames(region);
  await openssl(
    [
      "req",
      "-x509",
      ...EC_KEY,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      String(days),
      "-subj",
      `/O=dbtunnel sandbox/CN=dbtunnel sandbox CA ${region}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
  chmodSync(join(dir, "ca.key"), 0o600);
  chmodSync(join(dir, "ca.pem"), 0o644);
  // The server key: made once, reused by every re-issue.
  await openssl(
    ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-out", "server.key"],
    dir,
  );
  const serverKeyPath = join(dir, "server.key");
  chmodSync(serverKeyPath, 0o600);
  await issueServerCertificate(dir, names, days);
  if (opts.keyOwner) chownSync(serverKeyPath, opts.keyOwner.uid, opts.keyOwner.gid);
  return {
    caCertPath: join(dir, "ca.pem"),
    serverCertPath: join(dir, "server.pem"),
    serverKeyPath,
    serverNames: names,
    dir,
  };
}
