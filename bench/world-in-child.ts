/**
 * Runs a benchmark's "world" (gateway, emulator, destination…) in a child process of the same script, so
 * the figures of the parent (CPU, peak memory) are the client's alone. The child prints the world as one
 * JSON line and stops it when its stdin closes; the parent gets the world and a stop().
 */

/** Child side: publish the world on stdout, wait for EOF on stdin, stop it, exit. */
export async function serveWorld<W>(world: W, stop: () => Promise<void>): Promise<never> {
  process.stdout.write(`${JSON.stringify(world)}\n`);
  for await (const _ of process.stdin) {
    // wait for EOF
  }
  await stop();
  process.exit(0);
}

/** Parent side: start `script --serve` and read the world it publishes. */
export async function worldInChild<W>(
  script: string,
  what: string,
): Promise<{ world: W; stop: () => Promise<void> }> {
  const child = Bun.spawn([process.execPath, script, "--serve"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the ${what} child exited before it was ready`);
    text += new TextDecoder().decode(value);
  }
  return {
    world: JSON.parse(text) as W,
    stop: async () => {
      child.stdin.end();
      await child.exited;
    },
  };
}
