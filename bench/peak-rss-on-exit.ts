/**
 * Preload (`bun --preload bench/peak-rss-on-exit.ts ...`) for bench/tunnel-memory.ts: prints the process's
 * own peak RSS (VmHWM) as the last line of stderr when it exits, so short-lived commands (`dbtunnel
 * --version`, a bare Bun) can be measured: Bun's `resourceUsage().maxRSS` of a child reports the parent's
 * peak when that is higher.
 */
import { readFileSync } from "node:fs";

process.on("exit", () => {
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
  process.stderr.write(`\npeak-rss-kb ${kb}\n`);
});
