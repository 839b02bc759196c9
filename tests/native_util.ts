/** Helpers shared by the native-backend tests: random tensors, per-backend runs, comparison. */

import assert from "node:assert/strict";
import { mulberry32 } from "../lib/random.ts";
import { registerNativeBackend } from "../lib/native/mod.ts";
import { tf } from "../lib/train/mod.ts"; // tfjs with the gradients of lib/train

/** Registration outcome; tests are ignored when the backend is unavailable. */
export const native = registerNativeBackend();
/** `ignore` flag for Deno.test: true without OpenBLAS/FFI. */
export const noNative = !native.ok;

/** Deterministic uniform values in [lo, hi). */
export function rand(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const u = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * u();
  return a;
}

/** Small integers in [0, k) as floats (to provoke ties in max pooling and comparisons). */
export function randInt(n: number, seed: number, k: number): Float32Array {
  const u = mulberry32(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.floor(u() * k);
  return a;
}

/** What a run returns per output tensor. */
export interface Result {
  shape: number[];
  dtype: string;
  values: number[];
}

/**
 * Runs `fn` (which creates its inputs) on `backend` inside tidy, reads every output, disposes
 * it and checks that no tensor leaked. Restores the previous backend.
 */
export async function on(
  backend: string,
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<Result[]> {
  const prev = tf.getBackend() ?? "cpu";
  await tf.setBackend(backend);
  try {
    const before = tf.memory().numTensors;
    const outs = tf.tidy(() => {
      const r = fn();
      return Array.isArray(r) ? r : [r];
    });
    const res = outs.map((t) => ({
      shape: [...t.shape],
      dtype: t.dtype,
      values: Array.from(t.dataSync() as ArrayLike<number>),
    }));
    tf.dispose(outs);
    assert.deepStrictEqual(tf.memory().numTensors, before, `${backend}: tensors leaked`);
    return res;
  } finally {
    await tf.setBackend(prev);
  }
}

/**
 * Fails unless the results agree in shape and dtype and, elementwise, |a - b| <= atol + rtol
 * |b| with atol = tol * max|b| (NaN must meet NaN).
 */
export function assertClose(actual: Result[], expected: Result[], tol = 1e-5, what = ""): void {
  assert.deepStrictEqual(actual.length, expected.length, `${what}: output count`);
  for (let k = 0; k < actual.length; k++) {
    const a = actual[k], e = expected[k];
    assert.deepStrictEqual(a.shape, e.shape, `${what}[${k}]: shape`);
    assert.deepStrictEqual(a.dtype, e.dtype, `${what}[${k}]: dtype`);
    let scale = 0;
    for (const v of e.values) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
    const atol = tol * Math.max(scale, 1e-30);
    for (let i = 0; i < e.values.length; i++) {
      const x = a.values[i], y = e.values[i];
      if (
        x === y || Number.isNaN(y)
          ? Number.isNaN(x) || x === y
          : Math.abs(x - y) <= atol + tol * Math.abs(y)
      ) {
        continue;
      }
      assert.fail(
        `${what}[${k}]: element ${i} of ${e.values.length} is ${x}, expected ${y} (tol ${tol}, ` +
          `scale ${scale})`,
      );
    }
  }
}

/** Runs `fn` on cpu and on native and compares. */
export async function sameOnBoth(
  what: string,
  fn: () => tf.Tensor | tf.Tensor[],
  tol = 1e-5,
): Promise<void> {
  const cpu = await on("cpu", fn);
  const nat = await on("native", fn);
  assertClose(nat, cpu, tol, what);
}

export { tf };
