/**
 * Time as a dependency: timers and "now" behind one small interface, so state machines that wait (resend
 * ticks, keepalives, idle sweeps, the agent emulator's read pacing) can be driven by a manual clock in
 * tests instead of sleeping. `systemClock` is the real one.
 */
export interface Clock {
  /** Milliseconds, monotonic enough for intervals (Date.now for the system clock). */
  now(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void, options?: TimerOptions): () => void;
  /** Runs `fn` every `ms`; the returned function stops it. */
  every(ms: number, fn: () => void, options?: TimerOptions): () => void;
}

export interface TimerOptions {
  /** The timer alone does not keep the process alive. @default false */
  readonly unref?: boolean;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn, options) {
    const timer = setTimeout(fn, ms);
    if (options?.unref) timer.unref?.();
    return () => clearTimeout(timer);
  },
  every(ms, fn, options) {
    const timer = setInterval(fn, ms);
    if (options?.unref) timer.unref?.();
    return () => clearInterval(timer);
  },
};
