/**
 * Yielding to the event loop from long computations (training steps, tracking passes), so that
 * timers and messages (an abort, a worker's cancel poll) run.
 *
 * A yield is a macrotask turn (`setTimeout(0)`), which is not free: the HTML timer clamp
 * applies to timers nested this deep, and on a busy machine the idle process loses its core.
 * Yielding at most every {@link YIELD_EVERY_MS} keeps that a small part of a fast (native)
 * epoch, while an abort still lands within that time plus one step (measurements:
 * docs/performance.md, "Figures behind code comments").
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
