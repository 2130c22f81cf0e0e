/**
 * Keeps IAM auth tokens and credentials out of everything the CLI prints. A token is a presigned URL, so
 * besides redacting the exact secrets we know about we also blank the signing query parameters wherever
 * they appear (e.g. inside an SDK error message that echoes a URL).
 */

const SIGNING_PARAMS = /(X-Amz-(?:Signature|Security-Token|Credential)=)[^&\s"']+/gi;
const REDACTED = "[redacted]";

/** Secrets registered at runtime (tokens we generated, session credentials) are scrubbed from every line. */
const known = new Set<string>();

export function registerSecret(secret: string | undefined): void {
  // Very short strings would redact ordinary words; real tokens and keys are long.
  if (secret && secret.length >= 8) known.add(secret);
}

export function redact(text: string, extraSecrets: readonly string[] = []): string {
  let out = text;
  for (const secret of [...known, ...extraSecrets]) {
    if (secret.length >= 8) out = out.split(secret).join(REDACTED);
  }
  return out.replace(SIGNING_PARAMS, `$1${REDACTED}`);
}

/** For tests: forget registered secrets. */
export function clearSecrets(): void {
  known.clear();
}
