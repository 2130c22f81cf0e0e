import { join } from "node:path";
import { freePort } from "./ports.ts";
import { type Supervised, supervise } from "./supervisor.ts";

export interface MotoOptions {
  /** Sandbox directory (receives moto.log). */
  readonly dir: string;
  /** python interpreter with moto 5.x. @default `DBTUNNEL_PYTHON`, else "python3" */
  readonly python?: string;
  /** @default 20 s */
  readonly readyTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface Moto {
  readonly url: string;
  readonly port: number;
  readonly process: Supervised;
  /** Forget every resource (POST /moto-api/reset): moto otherwise keeps e.g. a deleted log group's tags. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

async function tail(path: string, lines = 5): Promise<string> {
  try {
    return (await Bun.file(path).text()).trim().split("\n").slice(-lines).join(" | ");
  } catch {
    return "";
  }
}

/**
 * moto in server mode on a free loopback port, under the watchdog. Ready when /moto-api/ answers
 * (polled, no fixed sleep). Retries on a lost port race.
 */
export async function startMoto(opts: MotoOptions): Promise<Moto> {
  const python = opts.python ?? process.env.DBTUNNEL_PYTHON ?? "python3";
  const logPath = join(opts.dir, "moto.log");
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const proc = supervise({
      name: "moto",
      cmd: [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)],
      logPath,
      stopSignal: "TERM",
      graceSeconds: 3,
      // Managed policies are needed to attach AmazonSSMManagedInstanceCore (design.md, sandbox facts).
      env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: "true", PYTHONDONTWRITEBYTECODE: "1" },
    });
    const moto: Moto = {
      url,
      port,
      process: proc,
      async reset() {
        const res = await fetch(`${url}/moto-api/reset`, { method: "POST" });
        if (!res.ok) throw new Error(`moto reset failed: HTTP ${res.status}`);
      },
      stop: () => proc.stop(),
    };
    try {
      while (true) {
        opts.signal?.throwIfAborted();
        if (!proc.isRunning()) break;
        try {
          const res = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          if (res.ok) return moto;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          throw new Error(
            `moto did not become ready within ${opts.readyTimeoutMs ?? 20_000} ms (log: ${logPath})`,
          );
        }
        await Bun.sleep(25);
      }
    } catch (error) {
      await proc.stop();
      throw error;
    }
    await proc.stop();
    const log = await tail(logPath);
    if (attempt < 3 && /address already in use/i.test(log)) continue;
    throw new Error(
      `moto exited during start-up: ${log || `see ${logPath}`} (is moto 5 installed for ${python}?)`,
    );
  }
}
