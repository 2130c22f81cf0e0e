/**
 * Version rules of the agent side (ssm-session-protocol.md §10.1). The agent compares with semver when
 * both sides parse as semver, else component-wise (numeric when both components are numbers, text
 * otherwise), and a version that is a prefix of the other is the smaller one. For plain dotted numbers
 * both rules agree, so one component-wise comparison implements them (pre-release tags are compared as
 * text, which is all this emulator needs).
 */
export function compareAgentVersions(a: string, b: string): number {
  const pa = a.trim().split(".");
  const pb = b.trim().split(".");
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    const bothNumeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    const cmp = bothNumeric ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (cmp !== 0) return cmp < 0 ? -1 : 1;
  }
  return Math.sign(pa.length - pb.length);
}

/** The client-side rule (plugin's versionutil): "greater" only for equally long, all-numeric versions. */
function clientSideGreater(a: string, b: string): boolean {
  const pa = a.split(".");
  const pb = b.split(".");
  if (pa.length !== pb.length || ![...pa, ...pb].every((p) => /^\d+$/.test(p))) return false;
  for (let i = 0; i < pa.length; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d > 0;
  }
  return false;
}

export interface PortMode {
  readonly mux: boolean;
  /** smux NOP keepalive (and the 30-60 s idle cut-off) on the agent's side. */
  readonly keepalive: boolean;
}

/**
 * What the emulated agent runs for a port session. A real agent decides from ClientVersion alone; the
 * emulator also announces an AgentVersion (faults.agentVersion) and the client decides from that, so the
 * agent must behave like an agent of that version would or the two sides would disagree:
 *   - an agent ≤ 3.0.196.0 has no mux at all (the client picks basic for it);
 *   - an agent ≤ 3.1.1511.0 predates the "no keepalive for new clients" check.
 */
export function decidePortMode(agentVersion: string, clientVersion: string, portType: string): PortMode {
  const agentHasMux = clientSideGreater(agentVersion, "3.0.196.0");
  const mux =
    agentHasMux && portType === "LocalPortForwarding" && compareAgentVersions(clientVersion, "1.1.70") >= 0;
  const agentSkipsKeepaliveForNewClients = clientSideGreater(agentVersion, "3.1.1511.0");
  const keepalive =
    mux && !(agentSkipsKeepaliveForNewClients && compareAgentVersions(clientVersion, "1.2.331.0") > 0);
  return { mux, keepalive };
}
