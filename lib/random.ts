/** Seeded randomness shared by training, demos and tests: identical on every platform. */

/**
 * mulberry32: a 32-bit-state PRNG returning uniform floats in [0, 1). Small and fast; enough for
 * shuffling, weight initialisation and test data, not for cryptography.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
