/**
 * Inverse of a symmetric positive definite matrix as a differentiable tfjs op. The forward
 * pass symmetrises A in float64 and inverts it through lib/linalg (OpenBLAS when it loads): a
 * float32 inverse of the badly conditioned kernel matrices of nHSIC (eigenvalues down to
 * eps*m = 1.3e-3 next to m = 128) would lose most digits. The backward rule is
 * d(A^-1) = -A^-1 dA A^-1, applied to the symmetrised cotangent because the forward reads A
 * through (A + A^T) / 2.
 *
 * The forward needs A's values synchronously. Where the backend reads only asynchronously
 * (webgpu), callers compute the inverse beforehand with {@link inverse64} and pass it to
 * {@link spdInverseGiven}, which has the same backward rule.
 */
import * as tf from "@tensorflow/tfjs-core";
import { getLinalg } from "../../linalg/mod.ts";

/** (A + A^T) / 2 of a row-major m x m float32 matrix, in float64. */
export function symmetrised64(a: Float32Array | Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    out[i * m + i] = a[i * m + i];
    for (let j = i + 1; j < m; j++) {
      const v = 0.5 * (a[i * m + j] + a[j * m + i]);
      out[i * m + j] = v;
      out[j * m + i] = v;
    }
  }
  return out;
}

/** ((A + A^T) / 2)^-1 in float64 of a row-major m x m matrix, as float32. */
export function inverse64(a: Float32Array | Float64Array, m: number): Float32Array {
  const s = symmetrised64(a, m);
  getLinalg().spdInverse(s, m);
  return Float32Array.from(s);
}

/** -P sym(dY) P: the cotangent of A for Y = A^-1 = P. */
function backward(p: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  const gs = tf.mul(tf.add(dy, tf.transpose(dy)), 0.5);
  return tf.neg(tf.matMul(tf.matMul(p, gs), p));
}

/** A^-1 of a symmetric positive definite [m, m] tensor (float64 inside, float32 out). */
export const spdInverse: (a: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const a = args[0] as tf.Tensor, save = args[1] as tf.GradSaveFunc;
    const m = a.shape[0];
    const inv = tf.tensor2d(inverse64(a.dataSync() as Float32Array, m), [m, m]);
    save([inv]);
    return {
      value: inv,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) =>
        backward(saved[0], dy as tf.Tensor),
    };
  },
) as unknown as (a: tf.Tensor2D) => tf.Tensor2D;

/**
 * A^-1 given its precomputed value `inv` (which must be the inverse of this very A): the value is
 * `inv`, the gradient with respect to A that of {@link spdInverse}; `inv` gets none.
 */
export const spdInverseGiven: (a: tf.Tensor2D, inv: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const inv = args[1] as tf.Tensor, save = args[2] as tf.GradSaveFunc;
    save([inv]);
    return {
      value: tf.clone(inv),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
        backward(saved[0], dy as tf.Tensor),
        tf.zerosLike(saved[0]),
      ],
    };
  },
) as unknown as (a: tf.Tensor2D, inv: tf.Tensor2D) => tf.Tensor2D;
