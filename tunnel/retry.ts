/**
 * The reference client's exponential retryer (ssm-session-protocol.md §9.1): sleep initial·2^k between
 * attempts, initial random in [100, 200) ms, restart at k = 0 when the sleep would exceed 5 s, give up
 * after 5 failed retries (6 calls).
 */
export const RETRY_MAX_RETRIES = 5;
export const RETRY_MAX_DELAY_MS = 5000;

export interface RetryOptions {
  /** @default RETRY_MAX_RETRIES */
  readonly retries?: number;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Stops retrying (the last error is thrown) once this returns true. */
  readonly stopped?: () => boolean;
  /** Called before each retry's sleep with the 1-based retry number and the error that caused it. */
  readonly onRetry?: (retry: number, error: unknown) => void;
}

export function retryDelays(retries: number, random: () => number = Math.random): number[] {
  const initial = 100 + Math.floor(random() * 100);
  const delays: number[] = [];
  let k = 0;
  for (let i = 0; i < retries; i++) {
    let delay = initial * 2 ** k;
    if (delay > RETRY_MAX_DELAY_MS) {
      k = 0;
      delay = initial;
    }
    delays.push(delay);
    k++;
  }
  return delays;
}

export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const delays = retryDelays(options.retries ?? RETRY_MAX_RETRIES, options.random);
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const delay = delays[attempt];
      if (delay === undefined || options.stopped?.()) throw error;
      options.onRetry?.(attempt + 1, error);
      await sleep(delay);
      if (options.stopped?.()) throw error;
    }
  }
}
