import { describe, expect, test } from "bun:test";
import { parseHosts, renderHosts, staleBlocks, withBlock, withoutBlock } from "./hosts-block.ts";

const alive = () => true;
const endpoint = "db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com";

describe("hosts blocks", () => {
  const originals = [
    "127.0.0.1 localhost\n::1 localhost\n",
    "127.0.0.1 localhost\n10.0.0.1 printer # no newline at end",
    "",
    "\n\n# only comments\r\n\t  \n",
  ];
  for (const original of originals) {
    test(`add then remove restores the file byte for byte: ${JSON.stringify(original.slice(0, 20))}`, () => {
      const added = withBlock(original, { pid: 42, hosts: [endpoint], address: "127.0.0.1" }, alive);
      expect(added).toContain(`127.0.0.1 ${endpoint}\n`);
      expect(added.startsWith(original)).toBe(true);
      expect(withoutBlock(added, 42, alive)).toBe(original);
    });
  }

  test("a file without final newline gets its own line for the block, and it leaves with the block", () => {
    const added = withBlock("a b", { pid: 7, hosts: ["h"], address: "127.0.0.1" }, alive);
    expect(added).toBe("a b\n# >>> dbtunnel pid=7 nl >>>\n127.0.0.1 h\n# <<< dbtunnel pid=7 <<<\n");
  });

  test("two runs coexist; removing either keeps the other and the base", () => {
    const base = "127.0.0.1 localhost";
    const one = withBlock(base, { pid: 1, hosts: [endpoint], address: "127.0.0.1" }, alive);
    const both = withBlock(one, { pid: 2, hosts: [endpoint], address: "127.0.0.1" }, alive);
    expect(parseHosts(both).blocks.map((b) => b.pid)).toEqual([1, 2]);
    const onlyTwo = withoutBlock(both, 1, alive);
    expect(parseHosts(onlyTwo).blocks.map((b) => b.pid)).toEqual([2]);
    expect(parseHosts(onlyTwo).base).toBe(base);
    expect(withoutBlock(onlyTwo, 2, alive)).toBe(base);
  });

  test("blocks of dead owners are healed when another run edits the file", () => {
    const stale = withBlock("x\n", { pid: 99999, hosts: ["old"], address: "127.0.0.1" }, alive);
    const isAlive = (pid: number) => pid !== 99999;
    expect(staleBlocks(stale, isAlive).map((b) => b.pid)).toEqual([99999]);
    const healed = withBlock(stale, { pid: 5, hosts: ["new"], address: "127.0.0.1" }, isAlive);
    expect(parseHosts(healed).blocks.map((b) => b.hosts)).toEqual([["new"]]);
    expect(withoutBlock(stale, -1, isAlive)).toBe("x\n");
  });

  test("user content after a block is kept in order", () => {
    const withUserLine = `${withBlock("a\n", { pid: 3, hosts: ["h"], address: "127.0.0.1" }, alive)}b\n`;
    expect(withoutBlock(withUserLine, 3, alive)).toBe("a\nb\n");
  });

  test("a begin marker without its end marker is left alone as ordinary text", () => {
    const broken = "a\n# >>> dbtunnel pid=3 >>>\n127.0.0.1 h\n";
    expect(parseHosts(broken)).toEqual({ base: broken, blocks: [] });
    expect(withoutBlock(broken, 3, alive)).toBe(broken);
    expect(renderHosts(parseHosts(broken))).toBe(broken);
  });

  test("re-adding the same pid replaces its block instead of duplicating it", () => {
    const once = withBlock("", { pid: 8, hosts: ["a"], address: "127.0.0.1" }, alive);
    const twice = withBlock(once, { pid: 8, hosts: ["b"], address: "127.0.0.1" }, alive);
    expect(parseHosts(twice).blocks).toEqual([{ pid: 8, hosts: ["b"], address: "127.0.0.1" }]);
  });
});
