/**
 * Seeded randomness of training: every stream (a parameter's initial values, the data order of
 * an epoch, augmentation, dropout) is derived from the job's seed and a name, so that methods
 * sharing an architecture start from the same weights and see the same batches.
 */

import { mulberry32 } from "../random.ts";

export { mulberry32 };

/** 32-bit seed of the stream `name` under the job seed (FNV-1a of the name, mixed with the seed). */
export function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ Math.imul(seed >>> 0, 0x9e3779b1);
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche so that nearby names give unrelated streams.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/** The PRNG of stream `name` under the job seed. */
export function stream(seed: number, name: string): () => number {
  return mulberry32(streamSeed(seed, name));
}

/** Standard normal samples (Box-Muller) from a uniform PRNG. */
export function fillNormal(out: Float32Array, rng: () => number, std = 1): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - rng(), v = rng();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Uniform samples in [-limit, limit). */
export function fillUniform(out: Float32Array, rng: () => number, limit: number): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = (2 * rng() - 1) * limit;
  return out;
}

/** A seeded permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, rng: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
