/**
 * Version rules that decide the port-forwarding mode (ssm-session-protocol.md §3, §10.1).
 * The comparison deliberately copies the reference plugin's semantics, because the agent decides its own
 * mode independently and both sides must agree.
 */

/** The version we announce as ClientVersion and print for `--version`: > 1.2.331.0 (agent turns smux keepalive off) and > 1.2.497.0 (AWS CLI env mode). */
export const CLIENT_VERSION = "1.2.677.0";

/** Agents above this speak smux (mux mode); at or below it, basic mode. */
export const MUX_MIN_AGENT_VERSION = "3.0.196.0";
/** Agents above this have smux keepalive disabled; at or below it we must send NOPs. */
export const KEEPALIVE_OFF_AGENT_VERSION = "3.1.1511.0";
/** Agents above this understand the TerminateSession flag in basic mode. */
export const TERMINATE_FLAG_AGENT_VERSION = "2.3.722.0";

/**
 * The plugin's "is greater than": split on ".", compare integers component-wise. Returns false (not
 * greater) when the component counts differ or any component is not a non-negative integer.
 */
export function isVersionGreater(version: string, than: string): boolean {
  const a = version.split(".");
  const b = than.split(".");
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = parseComponent(a[i]);
    const y = parseComponent(b[i]);
    if (x === undefined || y === undefined) return false;
    if (x !== y) return x > y;
  }
  return false;
}

function parseComponent(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return Number(text);
}

export interface ModeDecision {
  readonly mode: "mux" | "basic";
  /** Send smux NOPs every 10 s (only agents ≤ 3.1.1511.0 expect them). */
  readonly keepalive: boolean;
  /** Basic mode: the agent understands the TerminateSession flag. */
  readonly terminateFlag: boolean;
}

/** Client-side mode selection from the AgentVersion of the HandshakeRequest (§10.1). */
export function selectMode(agentVersion: string): ModeDecision {
  const mux = isVersionGreater(agentVersion, MUX_MIN_AGENT_VERSION);
  return {
    mode: mux ? "mux" : "basic",
    keepalive: mux && !isVersionGreater(agentVersion, KEEPALIVE_OFF_AGENT_VERSION),
    terminateFlag: mux || isVersionGreater(agentVersion, TERMINATE_FLAG_AGENT_VERSION),
  };
}

/** The AWS CLI's test for env mode: 1-4 dotted numbers, zero-padded to 4, strictly greater than 1.2.497.0. */
export function cliUsesEnvMode(pluginVersionOutput: string): boolean {
  const text = pluginVersionOutput.replace(/\s+/g, "");
  if (!/^\d+(\.\d+){0,3}$/.test(text)) return false;
  const parts = text.split(".");
  while (parts.length < 4) parts.push("0");
  return isVersionGreater(parts.join("."), "1.2.497.0");
}
