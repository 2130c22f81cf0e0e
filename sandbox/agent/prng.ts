/**
 * Seeded PRNG (mulberry32) for fault injection: a failing run can be replayed with the seed that the
 * session stats report. Not for anything security-related.
 */
export interface Prng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** True with probability `rate` (0 and undefined never, 1 always; no PRNG draw for 0 so plans without faults stay cheap). */
  chance(rate: number | undefined): boolean;
}

export function createPrng(seed: number = Math.floor(Math.random() * 0x1_0000_0000)): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
  return {
    seed: seed >>> 0,
    next,
    chance: (rate) => rate !== undefined && rate > 0 && (rate >= 1 || next() < rate),
  };
}
