/** The agent's deny list (agent/session/plugins/port/port.go, agent/appconfig/constants.go), pure parts. */
import { expect, test } from "bun:test";
import {
  AGENT_DENIED_REMOTE_IPS,
  firstDenied,
  forbiddenMessage,
  parseIp,
  vpcReservedAddresses,
} from "./deny-list.ts";

test("the list is the agent's DefaultDeniedPortForwardingRemoteIPs", () => {
  expect(AGENT_DENIED_REMOTE_IPS).toEqual([
    "169.254.169.254",
    "fd00:ec2::254",
    "169.254.169.253",
    "fd00:ec2::253",
    "169.254.169.123",
    "fd00:ec2::123",
    "169.254.169.250",
    "169.254.169.251",
    "fd00:ec2::240",
  ]);
  expect(forbiddenMessage("metadata.internal")).toBe(
    "Forwarding to IP address metadata.internal is forbidden.",
  );
});

test("addresses compare by value like net.IP.Equal: IPv6 spellings and IPv4-mapped forms match", () => {
  expect(firstDenied(["10.0.0.5", "fd00:ec2:0:0:0:0:0:254"], AGENT_DENIED_REMOTE_IPS)).toBe(
    "fd00:ec2:0:0:0:0:0:254",
  );
  expect(firstDenied(["::ffff:169.254.169.254"], AGENT_DENIED_REMOTE_IPS)).toBe("::ffff:169.254.169.254");
  expect(
    firstDenied(["127.0.0.1", "::1", "10.1.2.3", "169.254.169.1"], AGENT_DENIED_REMOTE_IPS),
  ).toBeUndefined();
  expect(parseIp("not-an-ip")).toBeUndefined();
  expect(parseIp("1:2:3:4:5:6:7:8:9")).toBeUndefined();
});

test("a VPC's reserved addresses: the first four and the broadcast address of each block (calculateAddress)", () => {
  expect(vpcReservedAddresses("10.0.0.0/16")).toEqual([
    "10.0.0.0",
    "10.0.0.1",
    "10.0.0.2",
    "10.0.0.3",
    "10.0.255.255",
  ]);
  expect(vpcReservedAddresses("172.31.0.0/20")[4]).toBe("172.31.15.255");
  const v6 = vpcReservedAddresses("2600:1f18:abcd:1200::/56");
  expect(firstDenied(["2600:1f18:abcd:1200::2"], v6)).toBe("2600:1f18:abcd:1200::2");
  expect(firstDenied(["2600:1f18:abcd:12ff:ffff:ffff:ffff:ffff"], v6)).toBeDefined();
  expect(() => vpcReservedAddresses("10.0.0.0/40")).toThrow("not a CIDR block");
});
