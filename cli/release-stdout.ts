/**
 * Lets `$(dbtunnel connect ... --listen &)` and `eval "$(dbtunnel connect ... --print-env &)"` return: a
 * command substitution reads until every writer closes the pipe, so once the one answer is written, the
 * process that stays behind to hold the tunnel gives its stdout back. Bun keeps a duplicate of stdout for
 * its writer, so every descriptor open on the same pipe is closed and re-plugged with /dev/null: later
 * writes go nowhere instead of failing or landing in another file. Only for a pipe or file: a terminal
 * keeps its output.
 */
import { closeSync, fstatSync, openSync } from "node:fs";

const MAX_FD = 1024;

export async function releaseStdout(stdout: NodeJS.WriteStream = process.stdout): Promise<boolean> {
  if (stdout.isTTY) return false;
  // Everything written so far reaches the reader first.
  await new Promise<void>((resolve) => stdout.write("", () => resolve()));
  const target = fstatSync(1);
  const sharing: number[] = [1];
  for (let fd = 3; fd < MAX_FD; fd++) {
    try {
      const stat = fstatSync(fd);
      if (stat.dev === target.dev && stat.ino === target.ino) sharing.push(fd);
    } catch {}
  }
  for (const fd of sharing) plugWithDevNull(fd);
  return true;
}

/** Closes `fd` and opens /dev/null until that very number is reused (open takes the lowest free one). */
function plugWithDevNull(fd: number): void {
  closeSync(fd);
  const extras: number[] = [];
  for (;;) {
    const opened = openSync("/dev/null", "w");
    if (opened === fd) break;
    extras.push(opened);
    if (opened > fd || extras.length > MAX_FD) break;
  }
  for (const extra of extras) closeSync(extra);
}
