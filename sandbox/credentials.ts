import { randomBytes } from "node:crypto";
import type { SandboxCredentials } from "./gateway/types.ts";

/** Base32 alphabet AWS uses for access key ids (upper-case letters and digits 2-7). */
const KEY_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/**
 * Fresh credentials for one sandbox. They look like temporary STS credentials (ASIA… key id, 40-char
 * secret, long session token) so that the IAM tokens the CLI signs with them are as long as real ones
 * (770–1450 chars): that length is what broke pam_exec and what the LDAP verifier must cope with.
 */
export function generateSandboxCredentials(): Required<SandboxCredentials> {
  const idBytes = randomBytes(16);
  let suffix = "";
  for (const byte of idBytes) suffix += KEY_ID_ALPHABET[byte % 32];
  return {
    accessKeyId: `ASIA${suffix}`,
    secretAccessKey: randomBytes(30).toString("base64"),
    // 525 random bytes → 700 base64 chars, about the size of a real session token.
    sessionToken: randomBytes(525).toString("base64"),
  };
}
