/**
 * Process-wide shutdown: what must be undone however the process ends. Synchronous cleanups (the hosts
 * file block) run from the 'exit' event, which also fires after uncaught errors; asynchronous ones (closing
 * the Session Manager session) run in the normal flow and on the first Ctrl-C / SIGTERM. A second signal
 * exits at once after the synchronous cleanups. SIGKILL cannot be caught: stale hosts blocks are healed by
 * the next run instead.
 */

const syncCleanups = new Set<() => void>();
const controller = new AbortController();
let clientRunning = false;
let installed = false;

export const shutdownSignal: AbortSignal = controller.signal;

/** Registers a synchronous cleanup; returns a function that unregisters it. */
export function onExit(cleanup: () => void): () => void {
  syncCleanups.add(cleanup);
  return () => syncCleanups.delete(cleanup);
}

export function runSyncCleanups(): void {
  for (const cleanup of [...syncCleanups]) {
    syncCleanups.delete(cleanup);
    try {
      cleanup();
    } catch {}
  }
}

/** While a client (psql) owns the terminal, Ctrl-C belongs to it, not to us. */
export function setClientRunning(running: boolean): void {
  clientRunning = running;
}

const EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

export function installLifecycle(): void {
  if (installed) return;
  installed = true;
  process.on("exit", runSyncCleanups);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      // The launched client gets the signal itself (terminal) or from launch.ts; we clean up after it exits.
      if (clientRunning) return;
      if (controller.signal.aborted) {
        runSyncCleanups();
        process.exit(EXIT_CODES[signal] ?? 1);
      }
      controller.abort(signal);
    });
  }
}

export function exitCodeForSignal(reason: unknown): number {
  return typeof reason === "string" ? (EXIT_CODES[reason] ?? 1) : 1;
}
