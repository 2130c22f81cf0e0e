/**
 * The agent's refusal of remote hosts (amazon-ssm-agent agent/session/plugins/port/port.go,
 * validateParameters; list in agent/appconfig/constants.go DefaultDeniedPortForwardingRemoteIPs): at
 * session start, after the handshake, a non-empty `host` is resolved ONCE; if any resolved address equals
 * a denied address, the port plugin fails with "Forwarding to IP address <host> is forbidden." (the
 * host as given, not the address) and the session ends. A failed lookup is not a refusal (the agent then
 * dials the name later). An empty host (AWS-StartPortForwardingSession) dials localhost and is not
 * checked; loopback and private addresses are allowed.
 */

/** IMDS, VPC DNS (Route 53 Resolver), Amazon Time Sync, Windows licence activation; IPv4 and IPv6 forms. */
export const AGENT_DENIED_REMOTE_IPS: readonly string[] = [
  "169.254.169.254",
  "fd00:ec2::254",
  "169.254.169.253",
  "fd00:ec2::253",
  "169.254.169.123",
  "fd00:ec2::123",
  "169.254.169.250",
  "169.254.169.251",
  "fd00:ec2::240",
];

/** The agent's failure text for a denied host (port.go). */
export function forbiddenMessage(host: string): string {
  return `Forwarding to IP address ${host} is forbidden.`;
}

/**
 * The VPC's reserved addresses the agent adds to the list (port.go calculateAddress): the first four
 * addresses of each VPC CIDR block (network, router, DNS, reserved) and its last (broadcast) address.
 */
export function vpcReservedAddresses(cidr: string): string[] {
  const [base, bits] = cidr.split("/");
  const bytes = parseIp(base ?? "");
  const prefix = Number(bits);
  if (!bytes || !Number.isInteger(prefix)) throw new Error(`not a CIDR block: ${cidr}`);
  const v4 = isV4Mapped(bytes);
  const width = v4 ? 32 : 128;
  if (prefix < 0 || prefix > width) throw new Error(`not a CIDR block: ${cidr}`);
  const out: string[] = [];
  for (let i = 0; i < 4; i++) {
    const next = bytes.slice();
    next[15] = ((next[15] ?? 0) + i) & 0xff; // the agent increments the last byte only
    out.push(formatIp(next, v4));
  }
  const broadcast = bytes.slice();
  const hostBits = width - prefix;
  for (let bit = 0; bit < hostBits; bit++) {
    const index = 15 - Math.floor(bit / 8);
    broadcast[index] = (broadcast[index] ?? 0) | (1 << (bit % 8));
  }
  out.push(formatIp(broadcast, v4));
  return out;
}

/** The first resolved address that is denied, or undefined. Equality as Go's net.IP.Equal (v4 = v4-in-v6). */
export function firstDenied(addresses: readonly string[], denied: readonly string[]): string | undefined {
  const deniedBytes = denied.map(parseIp).filter((b): b is Uint8Array => b !== undefined);
  for (const address of addresses) {
    const bytes = parseIp(address);
    if (bytes && deniedBytes.some((d) => equal(d, bytes))) return address;
  }
  return undefined;
}

/** 16-byte form of an IPv4 or IPv6 literal (IPv4 as ::ffff:a.b.c.d), or undefined. */
export function parseIp(text: string): Uint8Array | undefined {
  const v4 = parseV4(text);
  if (v4) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]);
  return parseV6(text);
}

function parseV4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseV6(text: string): Uint8Array | undefined {
  if (!text.includes(":") || text.includes("%")) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string | undefined): number[] | undefined => {
    if (!part) return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i] as string;
      if (i === pieces.length - 1 && piece.includes(".")) {
        const v4 = parseV4(piece);
        if (!v4) return undefined;
        out.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return undefined;
        out.push(Number.parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = groups(halves[1]);
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  return bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}

function formatIp(bytes: Uint8Array, v4: boolean): string {
  if (v4) return [...bytes.slice(12)].join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(":"); // uncompressed: compared by value, never by text
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}
