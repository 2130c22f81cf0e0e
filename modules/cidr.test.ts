import { describe, expect, test } from "bun:test";
import { cidrSubnet, formatCidr, parseCidr } from "./cidr.ts";

describe("cidr", () => {
  test("parses and formats a network address", () => {
    const parsed = parseCidr("10.40.0.0/16");
    expect(typeof parsed).toBe("object");
    expect(formatCidr(parsed as { address: number; prefix: number })).toBe("10.40.0.0/16");
  });

  test("rejects host bits, bad octets and bad syntax with a hint", () => {
    expect(parseCidr("10.40.0.1/16")).toContain("did you mean 10.40.0.0/16");
    expect(parseCidr("10.300.0.0/16")).toContain("above 255");
    expect(parseCidr("10.0.0.0")).toContain("not an IPv4 CIDR");
    expect(parseCidr("10.0.0.0/33")).toContain("above /32");
  });

  test("cidrSubnet matches Terraform's cidrsubnet()", () => {
    const vpc = parseCidr("10.40.0.0/16") as { address: number; prefix: number };
    expect(formatCidr(cidrSubnet(vpc, 4, 0))).toBe("10.40.0.0/20");
    expect(formatCidr(cidrSubnet(vpc, 4, 1))).toBe("10.40.16.0/20");
    expect(formatCidr(cidrSubnet(vpc, 4, 15))).toBe("10.40.240.0/20");
    expect(() => cidrSubnet(vpc, 4, 16)).toThrow(RangeError);
  });
});
