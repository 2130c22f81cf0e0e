/**
 * Which CA bundle verifies the database certificate. Order: `--ca-bundle`, DBTUNNEL_CA_BUNDLE (the sandbox
 * exports its CA here), the cached RDS global bundle, else download it once into the cache. Nothing here can
 * weaken verification: a missing or unusable bundle is an error, never a fallback to "no verification".
 */
import { createHash, X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { CliError } from "./errors.ts";

export const RDS_GLOBAL_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";
const DOWNLOAD_TIMEOUT_MS = 15_000;

export interface CaBundle {
  readonly path: string;
  readonly source: "flag" | "env" | "cache" | "download";
  readonly certificates: number;
}

export interface CaBundleOptions {
  /** `--ca-bundle` value. */
  readonly flag?: string;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** @default true; false only checks (doctor without network). */
  readonly download?: boolean;
}

export function caCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DBTUNNEL_CACHE_DIR) return env.DBTUNNEL_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "dbtunnel");
}

export function caBundleUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.DBTUNNEL_CA_BUNDLE_URL || RDS_GLOBAL_BUNDLE_URL;
}

export async function resolveCaBundle(options: CaBundleOptions = {}): Promise<CaBundle> {
  const env = options.env ?? process.env;
  if (options.flag) return { ...checkBundle(resolve(options.flag), "--ca-bundle"), source: "flag" };
  if (env.DBTUNNEL_CA_BUNDLE) {
    return { ...checkBundle(resolve(env.DBTUNNEL_CA_BUNDLE), "DBTUNNEL_CA_BUNDLE"), source: "env" };
  }
  const url = caBundleUrl(env);
  const cached = join(caCacheDir(env), cacheName(url));
  try {
    return { ...checkBundle(cached, "cached CA bundle"), source: "cache" };
  } catch {
    // Not cached yet (or damaged): download below.
  }
  if (options.download === false) {
    throw new CliError(
      `The RDS CA bundle is not cached yet (${cached}): 'dbtunnel connect' downloads it, or pass --ca-bundle <file>.`,
      { code: "CaBundle" },
    );
  }
  await download(url, cached);
  return { ...checkBundle(cached, "downloaded CA bundle"), source: "download" };
}

function cacheName(url: string): string {
  if (url === RDS_GLOBAL_BUNDLE_URL) return "rds-global-bundle.pem";
  return `ca-bundle-${createHash("sha256").update(url).digest("hex").slice(0, 12)}.pem`;
}

async function download(url: string, dest: string): Promise<void> {
  const fix = "download it where you have access and pass --ca-bundle <file> (or set DBTUNNEL_CA_BUNDLE)";
  let body: string;
  try {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
      redirect: "follow",
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await response.text();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new CliError(`Could not download the RDS CA bundle from ${url} (${reason}): ${fix}.`, {
      code: "CaBundleDownload",
      cause: error,
    });
  }
  if (countCertificates(body) === 0) {
    throw new CliError(`The CA bundle downloaded from ${url} holds no certificate: ${fix}.`, {
      code: "CaBundleDownload",
    });
  }
  const dir = resolve(dest, "..");
  mkdirSync(dir, { recursive: true });
  const tmp = `${dest}.${process.pid}.tmp`;
  writeFileSync(tmp, body, { mode: 0o644 });
  renameSync(tmp, dest);
}

function checkBundle(path: string, what: string): Omit<CaBundle, "source"> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(
      `The ${what} ${path} cannot be read (${code === "ENOENT" ? "no such file" : code}): pass an existing PEM file.`,
      { code: "CaBundle", cause: error },
    );
  }
  const certificates = countCertificates(text);
  if (certificates === 0) {
    throw new CliError(
      `The ${what} ${path} holds no PEM certificate: pass the RDS CA bundle (global-bundle.pem).`,
      {
        code: "CaBundle",
      },
    );
  }
  return { path, certificates };
}

/** Counts PEM certificates that actually parse (a truncated download must not pass). */
export function countCertificates(pem: string): number {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  let count = 0;
  for (const block of blocks) {
    try {
      new X509Certificate(block);
      count++;
    } catch {}
  }
  return count;
}
