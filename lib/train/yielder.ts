/**
 * Yielding to the event loop from long computations (training steps, tracking passes), so that
 * timers and messages (an abort, a worker's cancel poll) run.
 *
 * A yield is a macrotask turn (`setTimeout(0)`), which costs 2-5 ms here: the HTML timer
 * clamp applies to timers nested this deep, and on a busy machine the idle process loses its
 * core. Yielding every 20 ms cost 20% of a native MLP epoch (6 ms steps); every 100 ms costs
 * about 3%, and an abort still lands within ~100 ms plus one step.
 *
 * @module
 */

/** Least time between two yields, milliseconds. */
export const YIELD_EVERY_MS = 100;

/** A function that yields to the event loop when `everyMs` have passed since its last yield. */
export function makeYielder(everyMs = YIELD_EVERY_MS): () => Promise<void> {
  let last = performance.now();
  return async () => {
    const now = performance.now();
    if (now - last < everyMs) return;
    last = now;
    await new Promise((r) => setTimeout(r, 0));
    last = performance.now();
  };
}
