import { join } from "node:path";

/** Where a self-signed certificate and its key were written. */
export interface SelfSignedFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

/**
 * Writes a fresh self-signed certificate for `commonName` (and its key) into `dir` as `<stem>.pem` and
 * `<stem>.key`. With `dnsName` it carries that subjectAltName, so a test server can present it for that
 * name. openssl is a prerequisite of the tests (README); P-256 keys because they are made in milliseconds.
 */
export function makeSelfSigned(
  dir: string,
  stem: string,
  options: { readonly commonName?: string; readonly dnsName?: string } = {},
): SelfSignedFiles {
  const files = { certPath: join(dir, `${stem}.pem`), keyPath: join(dir, `${stem}.key`) };
  const subject = ["-subj", `/CN=${options.commonName ?? stem}`];
  const altName = options.dnsName === undefined ? [] : ["-addext", `subjectAltName=DNS:${options.dnsName}`];
  const run = Bun.spawnSync(
    ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
      .concat(["-keyout", files.keyPath, "-out", files.certPath, "-days", "1"])
      .concat(subject, altName),
    { stderr: "pipe" },
  );
  if (run.exitCode !== 0)
    throw new Error(`openssl could not make a test certificate: ${run.stderr.toString()}`);
  return files;
}

/**
 * Writes a fresh self-signed CA certificate (and its key) into `dir` and returns the PEM path: a CA that
 * signed nothing the sandbox (or RDS) serves, i.e. what a wrong CA bundle looks like.
 */
export function makeUnrelatedCa(dir: string, name: string): string {
  return makeSelfSigned(dir, name).certPath;
}
