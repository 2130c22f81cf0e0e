/**
 * The tools the demo (and the e2e flow) run, with the version they are tested with and how to get each,
 * so a missing one fails the preflight with what to install rather than just its name. README
 * "Prerequisites" says the same.
 */
export interface Tool {
  readonly name: string;
  readonly version: string;
  readonly hint: string;
}

export const DEMO_TOOLS: readonly Tool[] = [
  {
    name: "node",
    version: "20 or later",
    hint: "cdktf's CLI runs on Node: https://nodejs.org or your package manager",
  },
  {
    name: "terraform",
    version: "1.11.x",
    hint: "https://developer.hashicorp.com/terraform/install (the binary on PATH; providers come from /opt/tf-plugins or the registry)",
  },
  {
    name: "psql",
    version: "15 or later",
    hint: "Debian/Ubuntu: apt-get install postgresql-client; macOS: brew install libpq",
  },
  { name: "openssl", version: "any", hint: "Debian/Ubuntu: apt-get install openssl; macOS: preinstalled" },
  { name: "unshare", version: "util-linux", hint: "Debian/Ubuntu: apt-get install util-linux (Linux only)" },
  { name: "setsid", version: "util-linux", hint: "Debian/Ubuntu: apt-get install util-linux (Linux only)" },
];

/** One line naming every missing tool with its version and where to get it; undefined when none is missing. */
export function missingToolsMessage(
  which: (name: string) => string | null,
  tools: readonly Tool[] = DEMO_TOOLS,
): string | undefined {
  const missing = tools.filter((tool) => !which(tool.name));
  if (missing.length === 0) return undefined;
  return `missing tools on PATH: ${missing.map((t) => `${t.name} (${t.version}; ${t.hint})`).join("; ")}`;
}
