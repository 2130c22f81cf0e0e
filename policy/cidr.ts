/** Minimal IPv4 CIDR arithmetic: enough to tell whether a rule's CIDR lies inside the VPC's. */

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export interface Ipv4Cidr {
  readonly base: number;
  readonly bits: number;
}

export function parseIpv4Cidr(cidr: string): Ipv4Cidr | undefined {
  const [ip, len] = cidr.trim().split("/");
  if (ip === undefined || len === undefined || !/^\d{1,2}$/.test(len)) return undefined;
  const bits = Number(len);
  const base = ipv4ToInt(ip);
  if (base === undefined || bits > 32) return undefined;
  return { base, bits };
}

function networkOf(addr: number, bits: number): number {
  if (bits === 0) return 0;
  const size = 2 ** (32 - bits);
  return Math.floor(addr / size) * size;
}

/** Whether `inner` lies entirely inside `outer`. */
export function ipv4Within(inner: string, outer: string): boolean {
  const a = parseIpv4Cidr(inner);
  const b = parseIpv4Cidr(outer);
  if (!a || !b) return false;
  return a.bits >= b.bits && networkOf(a.base, b.bits) === networkOf(b.base, b.bits);
}
