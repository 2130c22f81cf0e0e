/**
 * Pure editing of dbtunnel's blocks in a hosts file. Each run owns one block, marked with its pid:
 *
 *   # >>> dbtunnel pid=1234 >>>
 *   127.0.0.1 db.aaaaaaaaaa.eu-west-1.rds.amazonaws.com
 *   # <<< dbtunnel pid=1234 <<<
 *
 * Invariant: removing every block gives back the rest of the file byte for byte. When the file does not
 * end with a newline, the first block needs one in front of it; that newline belongs to the block (flag
 * `nl` in its start marker) and leaves with it, so the user's last line is restored exactly.
 */

export interface HostsBlock {
  readonly pid: number;
  readonly hosts: readonly string[];
  /** Loopback address the hosts map to. */
  readonly address: string;
}

export interface ParsedHosts {
  /** Everything that is not ours, exactly as it was. */
  readonly base: string;
  readonly blocks: readonly HostsBlock[];
}

const BEGIN = /^# >>> dbtunnel pid=(\d+)( nl)? >>>$/;
const END = /^# <<< dbtunnel pid=(\d+) <<<$/;

export function parseHosts(text: string): ParsedHosts {
  // Split keeping line terminators so unknown content is reproduced exactly.
  const lines = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const blocks: HostsBlock[] = [];
  let base = "";
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    const begin = BEGIN.exec(line.replace(/\n$/, ""));
    const endIndex = begin ? findEnd(lines, i + 1, begin[1] as string) : -1;
    if (!begin || endIndex === -1) {
      base += line;
      i++;
      continue;
    }
    const body = lines
      .slice(i + 1, endIndex)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    const [address = "127.0.0.1"] = (body[0] ?? "").split(/\s+/);
    blocks.push({
      pid: Number(begin[1]),
      address,
      hosts: body.flatMap((l) => l.split(/\s+/).slice(1)),
    });
    // The newline we added in front of this block leaves with it.
    if (begin[2] && base.endsWith("\n")) base = base.slice(0, -1);
    i = endIndex + 1;
  }
  return { base, blocks };
}

function findEnd(lines: readonly string[], from: number, pid: string): number {
  for (let j = from; j < lines.length; j++) {
    const line = (lines[j] as string).replace(/\n$/, "");
    const end = END.exec(line);
    if (end) return end[1] === pid ? j : -1;
    if (BEGIN.test(line)) return -1;
  }
  return -1;
}

export function renderHosts(parsed: ParsedHosts): string {
  let text = parsed.base;
  parsed.blocks.forEach((block, index) => {
    const needsNewline = index === 0 && text.length > 0 && !text.endsWith("\n");
    if (needsNewline) text += "\n";
    text += renderBlock(block, needsNewline);
  });
  return text;
}

function renderBlock(block: HostsBlock, nl: boolean): string {
  return [
    `# >>> dbtunnel pid=${block.pid}${nl ? " nl" : ""} >>>`,
    `${block.address} ${block.hosts.join(" ")}`,
    `# <<< dbtunnel pid=${block.pid} <<<`,
    "",
  ].join("\n");
}

/**
 * Adds (or replaces) the block of `block.pid` and drops blocks whose owner is dead (a run killed with
 * SIGKILL cannot clean up; the next run heals the file).
 */
export function withBlock(text: string, block: HostsBlock, isAlive: (pid: number) => boolean): string {
  const parsed = parseHosts(text);
  const kept = parsed.blocks.filter((b) => b.pid !== block.pid && isAlive(b.pid));
  return renderHosts({ base: parsed.base, blocks: [...kept, block] });
}

/** Removes the block of `pid` (and any stale ones). Returns the text unchanged when there is nothing to do. */
export function withoutBlock(text: string, pid: number, isAlive: (pid: number) => boolean): string {
  const parsed = parseHosts(text);
  const kept = parsed.blocks.filter((b) => b.pid !== pid && isAlive(b.pid));
  if (kept.length === parsed.blocks.length) return text;
  return renderHosts({ base: parsed.base, blocks: kept });
}

/** Blocks whose owning process is gone. */
export function staleBlocks(text: string, isAlive: (pid: number) => boolean): HostsBlock[] {
  return parseHosts(text).blocks.filter((b) => !isAlive(b.pid));
}
