/**
 * Optional TLS between the client and the proxy on 127.0.0.1 (for tools that insist on sslmode=require).
 * A self-signed certificate for localhost/127.0.0.1 is generated once with openssl and kept next to the
 * local secret (key 0600). It protects nothing the loopback does not already protect; it exists so such
 * clients can connect at all. The hop that leaves the machine is always verified TLS (upstream-tls.ts).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

export interface LocalCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

export const LOCAL_CERT_FILE = "proxy-localhost.crt";
export const LOCAL_KEY_FILE = "proxy-localhost.key";

export class LocalTlsError extends Error {
  override readonly name = "LocalTlsError";
}

/** Loads the local certificate from `dir`, generating it first if it is not there. */
export function loadOrCreateLocalCertificate(dir: string): LocalCertificate {
  const certPath = join(dir, LOCAL_CERT_FILE);
  const keyPath = join(dir, LOCAL_KEY_FILE);
  if (!existsSync(certPath) || !existsSync(keyPath)) generate(dir, certPath, keyPath);
  return { certPath, keyPath, cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8") };
}

function generate(dir: string, certPath: string, keyPath: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmpKey = `${keyPath}.${process.pid}.tmp`;
  const tmpCert = `${certPath}.${process.pid}.tmp`;
  const run = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      tmpKey,
      "-out",
      tmpCert,
      "-days",
      "3650",
      "-subj",
      "/CN=dbtunnel local proxy",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  if (run.exitCode !== 0) {
    rmSync(tmpKey, { force: true });
    rmSync(tmpCert, { force: true });
    const why = run.stderr.toString().trim().split("\n").at(-1) ?? "unknown error";
    throw new LocalTlsError(
      `Cannot generate the local TLS certificate with openssl (${why}): install openssl or run without --local-tls.`,
    );
  }
  chmodSync(tmpKey, 0o600);
  renameSync(tmpKey, keyPath);
  renameSync(tmpCert, certPath);
}
