/**
 * Memory benchmark: peak RSS of the tunnel process as users run it — `bin/dbtunnel connect --listen`, its
 * own process — while 16 connections from this (another) process move 64 MB through it, next to baselines
 * measured in the same run: a bare Bun process, `dbtunnel --version`, and Bun with the SSM client loaded.
 * Asserts nothing.
 *
 *   bun bench/tunnel-memory.ts [--mb 64] [--unpaced-only]
 *
 * Two listeners, one after the other, against the same seeded stack:
 * - the faithful agent emulator (reads paced like the real agent's, ~1 MB/s per session): 16 connections
 *   download 64 MB in all (about a minute) — what a user's tunnel holds against a real agent;
 * - the unpaced emulator (the client's own limit, tens of MB/s: the worst case for buffers and garbage):
 *   16 connections downloading 64 MB, 16 uploading 64 MB, one 64 MB download, one 64 MB upload.
 * The world (sandbox: moto, PostgreSQL, the seeded stack; two gateways whose every destination is the
 * bulk server) runs in a child process. Peak RSS is the kernel's VmHWM of the tunnel's process
 * (/proc/<pid>/status): nothing it ever held is missed between samples. Target (issue 12): ≤ 80 MB.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startGateway } from "../sandbox/gateway/index.ts";
import { startSandbox } from "../sandbox/index.ts";
import { cleanEnv, fixtureFromSandbox, seedStack } from "../test-support/cli/fixtures.ts";
import {
  downloadFrom,
  patternSha256,
  startDestination,
  uploadTo,
} from "../test-support/tunnel/destination.ts";
import { reportFigures } from "./figures.ts";
import { serveWorld, worldInChild } from "./world-in-child.ts";

interface World {
  /** The CLI's environment for the faithful agent: the sandbox's, AWS_ENDPOINT_URL on its bulk gateway. */
  readonly pacedEnv: Record<string, string>;
  /** The same with AWS_ENDPOINT_URL on the unpaced bulk gateway. */
  readonly unpacedEnv: Record<string, string>;
  readonly outputsFile: string;
}

const root = join(import.meta.dir, "..");
const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

async function startWorld(): Promise<{ world: World; stop: () => Promise<void> }> {
  const sandbox = await startSandbox({ region: "us-east-1", log: () => {} });
  const fixture = fixtureFromSandbox(sandbox);
  const stack = await seedStack(fixture);
  const dest = await startDestination();
  // Same moto, same jump host; every session's destination is the bulk server.
  const bulkGateway = (unpaced: boolean) =>
    startGateway({
      motoUrl: sandbox.motoUrl,
      region: sandbox.region,
      credentials: sandbox.credentials,
      resolveDestination: async () => ({ host: dest.host, port: dest.port }),
      ...(unpaced ? { defaultFaults: { unpaced: true } } : {}),
    });
  const paced = await bulkGateway(false);
  const unpaced = await bulkGateway(true);
  return {
    world: {
      pacedEnv: { ...sandbox.env, AWS_ENDPOINT_URL: paced.url },
      unpacedEnv: { ...sandbox.env, AWS_ENDPOINT_URL: unpaced.url },
      outputsFile: stack.outputsFile,
    },
    stop: async () => {
      await paced.stop();
      await unpaced.stop();
      await dest.stop();
      await stack.cleanup();
      await fixture.stop();
    },
  };
}

if (args.includes("--serve")) {
  const { world, stop } = await startWorld();
  await serveWorld(world, stop);
}

const MB = 1024 * 1024;

/**
 * VmHWM (peak) and VmRSS (now) of a live process, in MB, and what VmRSS is made of now: file-backed pages
 * (the Bun executable's code that ran) and anonymous memory (heaps, JIT, buffers).
 */
function memoryOf(pid: number): { peak: number; now: number; file: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return {
    peak: kb("VmHWM") / 1024,
    now: kb("VmRSS") / 1024,
    file: kb("RssFile") / 1024,
    anon: kb("RssAnon") / 1024,
  };
}

/** Peak RSS of a short-lived Bun script, in MB: the preload reports VmHWM as the process exits. */
async function peakOfBun(script: string[], env: Record<string, string>): Promise<number> {
  const command = [process.execPath, "--preload", join(import.meta.dir, "peak-rss-on-exit.ts"), ...script];
  const child = Bun.spawn(command, { env, cwd: root, stdout: "ignore", stderr: "pipe" });
  const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
  const kb = Number(/peak-rss-kb (\d+)/.exec(stderr)?.[1]);
  if (code !== 0 || !kb) throw new Error(`${script.join(" ")} exited ${code}: ${stderr.trim()}`);
  return kb / 1024;
}

/** Downloads n pattern bytes and checks their SHA-256. */
async function download(port: number, n: number, expected: string): Promise<void> {
  const got = await downloadFrom(port, n);
  if (got.length !== n || got.sha !== expected) throw new Error("download corrupted");
}

/** Uploads n pattern bytes; the destination answers with their SHA-256. */
async function upload(port: number, n: number, expected: string): Promise<void> {
  if ((await uploadTo(port, n)) !== expected) throw new Error("upload corrupted");
}

/** Fails with `what` if `work` has not settled within `seconds`. */
async function within<T>(what: string, seconds: number, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts `dbtunnel connect --listen --json` and waits for its ready event. */
async function startListener(env: Record<string, string>, outputsFile: string) {
  const child = Bun.spawn([join(root, "bin/dbtunnel"), "connect", "-o", outputsFile, "--listen", "--json"], {
    env: cleanEnv(env),
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const ready = async (): Promise<number> => {
    for (;;) {
      for (const line of text.split("\n")) {
        if (!line.startsWith("{")) continue;
        const event = JSON.parse(line) as { type?: string; port?: number };
        if (event.type === "ready" && typeof event.port === "number") return event.port;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`dbtunnel connect --listen exited before ready: ${await stderr}${text}`);
      text += decoder.decode(value, { stream: true });
    }
  };
  const port = await within("dbtunnel connect --listen start-up", 60, ready());
  // Keep the listener's later events and warnings: a stuck phase reports them.
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      text = (text + decoder.decode(value, { stream: true })).slice(-4000);
    }
  })();
  return {
    pid: child.pid,
    port,
    /** The listener's last JSON events and, after it exited, its stderr. */
    output: async () => `${text.trim()}${child.exitCode === null ? "" : `\n${await stderr}`}`,
    async stop(): Promise<number> {
      child.kill("SIGINT");
      return await within("dbtunnel connect --listen exit", 30, child.exited);
    },
  };
}

/** Runs `phases` through one listener; returns its start-up RSS and its peak over the whole run. */
async function measure(
  env: Record<string, string>,
  outputsFile: string,
  phases: readonly (readonly [string, (port: number) => Promise<unknown>])[],
  secondsEach: number,
): Promise<{ startup: ReturnType<typeof memoryOf>; peak: number }> {
  const listener = await startListener(env, outputsFile);
  try {
    const startup = memoryOf(listener.pid);
    for (const [name, work] of phases) {
      const started = performance.now();
      await within(name, secondsEach, work(listener.port)).catch(async (error: Error) => {
        // What the agent emulator saw of each session, and what the listener said, for whoever debugs it.
        const sessions = await fetch(`${env.AWS_ENDPOINT_URL}/_dbtunnel/sessions`)
          .then((r) => r.text())
          .catch((e: Error) => e.message);
        throw new Error(
          `${error.message}\nagent emulator: ${sessions}\nlistener: ${await listener.output()}`,
        );
      });
      const m = memoryOf(listener.pid);
      console.log(
        `${name.padEnd(48)} ${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s  tunnel RSS now ${m.now.toFixed(0)} MB (file ${m.file.toFixed(0)}, anon ${m.anon.toFixed(0)}), peak so far ${m.peak.toFixed(0)} MB`,
      );
    }
    return { startup, peak: memoryOf(listener.pid).peak };
  } finally {
    const code = await listener.stop();
    if (code !== 0) console.log(`dbtunnel connect --listen exited ${code} on SIGINT`);
  }
}

async function main(): Promise<void> {
  const mb = flag("--mb", 64);
  const faithful = !args.includes("--unpaced-only");
  console.log("starting the sandbox in a child process ...");
  const { world, stop } = await worldInChild<World>(import.meta.path, "sandbox");
  try {
    const env = cleanEnv(world.unpacedEnv);
    // bin/dbtunnel runs `bun cli/main.ts` (exec): the same process as here, with the preload.
    const bare = await peakOfBun(["-e", "0"], env);
    const version = await peakOfBun([join(root, "cli/main.ts"), "--version"], env);
    const withSsm = await peakOfBun(
      ["-e", "const { SSMClient } = await import('@aws-sdk/client-ssm'); new SSMClient({});"],
      env,
    );
    const per = Math.floor((mb * MB) / 16);
    const perSha = patternSha256(per);
    const wholeSha = patternSha256(mb * MB);
    const sixteenDownloads = (port: number) =>
      Promise.all(Array.from({ length: 16 }, () => download(port, per, perSha)));

    let pacedPeak: number | undefined;
    if (faithful) {
      console.log("\nfaithful agent (paced reads, ~1 MB/s per session):");
      const paced = await measure(
        world.pacedEnv,
        world.outputsFile,
        [[`16 connections downloading ${mb} MB in all`, sixteenDownloads]],
        60 + mb * 4,
      );
      pacedPeak = paced.peak;
    }
    console.log("\nunpaced agent (the client's own limit):");
    const unpaced = await measure(
      world.unpacedEnv,
      world.outputsFile,
      [
        [`16 connections downloading ${mb} MB in all`, sixteenDownloads],
        [
          `16 connections uploading ${mb} MB in all`,
          (port) => Promise.all(Array.from({ length: 16 }, () => upload(port, per, perSha))),
        ],
        [`one ${mb} MB download`, (port) => download(port, mb * MB, wholeSha)],
        [`one ${mb} MB upload`, (port) => upload(port, mb * MB, wholeSha)],
      ],
      60 + mb,
    );

    console.log("");
    console.log(`bare Bun process (bun -e 0)                   ${bare.toFixed(0)} MB`);
    console.log(`dbtunnel --version                            ${version.toFixed(0)} MB`);
    console.log(`Bun with the SSM client loaded                ${withSsm.toFixed(0)} MB`);
    console.log(
      `tunnel process at start-up (ready)            ${unpaced.startup.now.toFixed(0)} MB now (file-backed ${unpaced.startup.file.toFixed(0)}, anonymous ${unpaced.startup.anon.toFixed(0)}), ${unpaced.startup.peak.toFixed(0)} MB peak`,
    );
    if (pacedPeak !== undefined)
      console.log(
        `tunnel peak, faithful agent, 16 conns, ${mb} MB  ${pacedPeak.toFixed(0)} MB (target ≤ 80 MB)`,
      );
    console.log(
      `tunnel peak, unpaced agent, 16 conns, ${mb} MB   ${unpaced.peak.toFixed(0)} MB (target ≤ 80 MB)`,
    );
    reportFigures("tunnel-memory", [
      ...(pacedPeak === undefined
        ? []
        : [
            {
              name: `tunnel process peak RSS, faithful agent, 16 connections, ${mb} MB`,
              value: pacedPeak,
              unit: "MB",
              baseline: { name: "bare Bun", value: bare },
              target: { value: 80, better: "lower" as const },
            },
          ]),
      {
        name: `tunnel process peak RSS, unpaced agent, 16 connections, ${mb} MB each way`,
        value: unpaced.peak,
        unit: "MB",
        baseline: { name: "bare Bun", value: bare },
        target: { value: 80, better: "lower" },
      },
      {
        name: "tunnel process start-up peak RSS",
        value: unpaced.startup.peak,
        unit: "MB",
        baseline: { name: "dbtunnel --version", value: version },
      },
      {
        name: "Bun with the SSM client loaded",
        value: withSsm,
        unit: "MB",
        baseline: { name: "bare Bun", value: bare },
      },
    ]);
  } finally {
    await stop();
  }
}

await main();
