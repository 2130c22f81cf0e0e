// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Terraform expressions under test
import { describe, expect, test } from "bun:test";
import { ipv4Within } from "./cidr.ts";
import { allSgRules, coversPort } from "./security-groups.ts";

describe("security group rules in all four Terraform spellings", () => {
  const tf = {
    resource: {
      aws_security_group: {
        a: {
          ingress: [{ protocol: "tcp", from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"], self: true }],
        },
      },
      aws_security_group_rule: {
        b: {
          type: "egress",
          security_group_id: "${aws_security_group.a.id}",
          protocol: "6",
          from_port: 443,
          to_port: 443,
          source_security_group_id: "sg-1",
        },
      },
      aws_vpc_security_group_ingress_rule: {
        c: { security_group_id: "${aws_security_group.a.id}", ip_protocol: "-1", cidr_ipv6: "::/0" },
      },
      aws_vpc_security_group_egress_rule: {
        d: {
          security_group_id: "sg-9",
          ip_protocol: "tcp",
          from_port: "${data.aws_db_instance.x.port}",
          to_port: "${data.aws_db_instance.x.port}",
          prefix_list_id: "pl-1",
        },
      },
    },
  };

  test("normalize to one shape", () => {
    const rules = allSgRules(tf);
    expect(rules.map((r) => [r.declaredBy, r.group, r.direction, r.protocol])).toEqual([
      ["aws_security_group.a", "aws_security_group.a", "ingress", "tcp"],
      ["aws_security_group_rule.b", "aws_security_group.a", "egress", "tcp"],
      ["aws_vpc_security_group_ingress_rule.c", "aws_security_group.a", "ingress", "-1"],
      ["aws_vpc_security_group_egress_rule.d", "sg-9", "egress", "tcp"],
    ]);
    expect(rules[0]?.peerGroups).toEqual(["aws_security_group.a"]);
    expect(rules[1]?.peerGroups).toEqual(["sg-1"]);
    expect(rules[2]?.cidrs).toEqual(["::/0"]);
    expect(rules[3]?.portReference).toBe("data.aws_db_instance.x.port");
    expect(rules[3]?.prefixLists).toEqual(["pl-1"]);
  });

  test("port coverage: all protocols cover everything, tcp covers its range only", () => {
    const [ssh, , all] = allSgRules(tf);
    if (!ssh || !all) throw new Error("missing rules");
    expect(coversPort(ssh, 22)).toBe(true);
    expect(coversPort(ssh, 23)).toBe(false);
    expect(coversPort(all, 3389)).toBe(true);
  });
});

describe("ipv4Within", () => {
  test("inside, equal, outside and wider", () => {
    expect(ipv4Within("10.0.1.0/24", "10.0.0.0/16")).toBe(true);
    expect(ipv4Within("10.0.0.0/16", "10.0.0.0/16")).toBe(true);
    expect(ipv4Within("10.1.0.0/24", "10.0.0.0/16")).toBe(false);
    expect(ipv4Within("10.0.0.0/8", "10.0.0.0/16")).toBe(false);
    expect(ipv4Within("0.0.0.0/0", "10.0.0.0/16")).toBe(false);
    expect(ipv4Within("not-a-cidr", "10.0.0.0/16")).toBe(false);
  });
});
