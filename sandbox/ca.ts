import { chmodSync, chownSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SandboxCa {
  /** The CA certificate; plays the RDS CA bundle (DBTUNNEL_CA_BUNDLE). */
  readonly caCertPath: string;
  /** PostgreSQL's server certificate and key, valid for the RDS endpoint names of `region`. */
  readonly serverCertPath: string;
  readonly serverKeyPath: string;
  /** DNS names in the server certificate. */
  readonly serverNames: readonly string[];
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
 * RDS endpoint names moto hands out (`<id>.aaaaaaaaaa.<region>.rds.amazonaws.com`, clusters
 * `<id>.cluster-aaaaaaaaaa...` and `<id>.cluster-ro-aaaaaaaaaa...`). Wildcards only, and deliberately not
 * localhost or 127.0.0.1: verify-full through the tunnel must check the RDS name, like real RDS.
 */
export function rdsServerNames(region: string): string[] {
  return ["", "cluster-", "cluster-ro-"].map((prefix) => `*.${prefix}aaaaaaaaaa.${region}.rds.amazonaws.com`);
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const proc = Bun.spawn({ cmd: ["openssl", ...args], cwd, stdout: "ignore", stderr: "pipe" });
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${stderr.trim().split("\n")[0] ?? ""}`);
}

/**
 * A throwaway CA per sandbox (EC P-256: generating it takes milliseconds) and a server certificate signed
 * by it. The CA key never leaves the sandbox directory and dies with it.
 */
export async function createSandboxCa(opts: CreateCaOptions): Promise<SandboxCa> {
  const { dir, region } = opts;
  const days = String(opts.days ?? 7);
  const names = rdsServerNames(region);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      days,
      "-subj",
      `/O=dbtunnel sandbox/CN=dbtunnel sandbox CA ${region}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
  );
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
  await openssl(
    ["req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${names[0]}`],
    dir,
  );
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
      days,
      "-extfile",
      "server.ext",
      "-out",
      "server.pem",
    ],
    dir,
  );
  const serverKeyPath = join(dir, "server.key");
  chmodSync(join(dir, "ca.key"), 0o600);
  chmodSync(serverKeyPath, 0o600);
  if (opts.keyOwner) chownSync(serverKeyPath, opts.keyOwner.uid, opts.keyOwner.gid);
  chmodSync(join(dir, "ca.pem"), 0o644);
  chmodSync(join(dir, "server.pem"), 0o644);
  return {
    caCertPath: join(dir, "ca.pem"),
    serverCertPath: join(dir, "server.pem"),
    serverKeyPath,
    serverNames: names,
  };
}
