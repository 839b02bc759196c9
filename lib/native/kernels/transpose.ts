/**
 * Transpose of float32 tensors whose permutation is a swap of two blocks of axes (matrix
 * transposes, batched or not, e.g. [1, 0], [0, 2, 1], [0, 3, 1, 2] as [n, h*w, c] -> [n, c,
 * h*w]) through OpenBLAS's blocked somatcopy; anything else goes to the cpu kernel.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { f32, type NativeArgs, out, sizeOf, withFallback } from "./util.ts";

/**
 * For perm = [0..p-1, q..r-1, p..q-1] (leading axes kept, then two blocks swapped) returns the
 * batch size and the rows x cols of each matrix; null for other permutations.
 */
function asBatchedTranspose(
  shape: number[],
  perm: number[],
): { batch: number; rows: number; cols: number } | null {
  const r = perm.length;
  let p = 0;
  while (p < r && perm[p] === p) p++;
  if (p === r) return { batch: 1, rows: 1, cols: sizeOf(shape) }; // identity
  // perm[p..] must be q, q+1, ..., r-1, p, p+1, ..., q-1
  const q = perm[p];
  const lenHi = r - q;
  for (let i = 0; i < lenHi; i++) if (perm[p + i] !== q + i) return null;
  for (let i = 0; i < q - p; i++) if (perm[p + lenHi + i] !== p + i) return null;
  return {
    batch: sizeOf(shape.slice(0, p)),
    rows: sizeOf(shape.slice(p, q)),
    cols: sizeOf(shape.slice(q)),
  };
}

const transposeConfig: tf.KernelConfig = {
  kernelName: tf.Transpose,
  backendName: "native",
  kernelFunc: withFallback(tf.Transpose, ({ inputs, backend, attrs }: NativeArgs) => {
    const x = inputs.x!;
    const xv = f32(backend, x);
    if (!xv) return null;
    const perm = attrs!.perm as number[];
    const t = asBatchedTranspose(x.shape, perm);
    if (!t) return null;
    const shape = perm.map((p) => x.shape[p]);
    const y = backend.alloc(xv.length);
    const { batch, rows, cols } = t;
    if (rows === 1 || cols === 1) {
      y.set(xv);
    } else {
      const m = rows * cols;
      for (let b = 0; b < batch; b++) {
        backend.blas.transpose(rows, cols, xv.subarray(b * m, (b + 1) * m), y.subarray(b * m));
      }
    }
    return out(backend, shape, y);
  }),
};

/** Kernel configs of this module. */
export const transposeKernels: tf.KernelConfig[] = [transposeConfig];
