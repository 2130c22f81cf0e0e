/**
 * Waiting in tests: poll a condition with a deadline instead of sleeping a fixed time, so a slow (loaded)
 * machine only makes a test slower, never wrong. Shared by the tests of every directory; no dependencies.
 */

/** Polls `check` until it holds or `timeoutMs` has passed (checking once more at the deadline); says whether it held. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 10,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await Bun.sleep(intervalMs);
  }
  return check();
}

/** Like `waitFor`, for a step the test cannot go on without: throws when the condition is not reached. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  if (!(await waitFor(check, timeoutMs))) throw new Error(`condition not reached within ${timeoutMs} ms`);
}
