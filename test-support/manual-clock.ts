/**
 * A clock that only moves when a test says so (tunnel/clock.ts): `advance(ms)` runs every timer that
 * falls due, in due order, with `now()` set to each timer's due time. Lets tests of keepalives, resend
 * ticks, idle timeouts and read pacing assert exact behaviour without sleeping.
 */
import type { Clock } from "../tunnel/clock.ts";

interface Timer {
  due: number;
  readonly period: number | undefined;
  readonly fn: () => void;
  readonly order: number;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  private current: number;
  private readonly timers = new Set<Timer>();
  private created = 0;

  constructor(start = 1_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  after(ms: number, fn: () => void): () => void {
    return this.add(ms, undefined, fn);
  }

  every(ms: number, fn: () => void): () => void {
    return this.add(ms, Math.max(1, ms), fn);
  }

  /** Timers not yet run or cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running due timers in order (timers they add run too if due). */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (!next) break;
      this.current = Math.max(this.current, next.due);
      if (next.period === undefined) this.timers.delete(next);
      else next.due += next.period;
      next.fn();
    }
    this.current = end;
  }

  /** advance() in steps of `step` ms, letting promises settle between steps (for async code under test). */
  async advanceAsync(ms: number, step = 1): Promise<void> {
    for (let done = 0; done < ms; done += step) {
      this.advance(Math.min(step, ms - done));
      await Bun.sleep(0);
    }
  }

  private add(ms: number, period: number | undefined, fn: () => void): () => void {
    const timer: Timer = {
      due: this.current + Math.max(0, ms),
      period,
      fn,
      order: this.created++,
      cancelled: false,
    };
    this.timers.add(timer);
    return () => {
      timer.cancelled = true;
      this.timers.delete(timer);
    };
  }

  private nextDue(end: number): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.timers) {
      if (t.due > end) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.order < best.order)) best = t;
    }
    return best;
  }
}
