/** Minimal IPv4 CIDR arithmetic for carving subnets from a literal VPC range (no dependency needed). */
export interface Ipv4Cidr {
  readonly address: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/n`; returns an error text instead of throwing so callers can name their field. */
export function parseCidr(text: string): Ipv4Cidr | string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) return `"${text}" is not an IPv4 CIDR like 10.40.0.0/16`;
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return `"${text}" has an octet above 255`;
  const prefix = Number(match[5]);
  if (prefix > 32) return `"${text}" has a prefix above /32`;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (address % size !== 0) {
    return `"${text}" has host bits set (did you mean ${formatCidr({ address: address - (address % size), prefix })}?)`;
  }
  return { address, prefix };
}

export function formatCidr(cidr: Ipv4Cidr): string {
  const a = cidr.address;
  return `${Math.floor(a / 2 ** 24) % 256}.${Math.floor(a / 2 ** 16) % 256}.${Math.floor(a / 2 ** 8) % 256}.${a % 256}/${cidr.prefix}`;
}

/** Same as Terraform's cidrsubnet(): the `index`-th block with `newBits` more prefix bits. */
export function cidrSubnet(cidr: Ipv4Cidr, newBits: number, index: number): Ipv4Cidr {
  const prefix = cidr.prefix + newBits;
  if (prefix > 32 || index < 0 || index >= 2 ** newBits) {
    throw new RangeError(`cannot take block ${index} of /${prefix} from /${cidr.prefix}`);
  }
  return { address: cidr.address + index * 2 ** (32 - prefix), prefix };
}
