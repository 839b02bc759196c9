/**
 * Inverse of a symmetric positive definite matrix as a differentiable tfjs op. The forward
 * pass symmetrises A in float64 and inverts it through lib/linalg (OpenBLAS when it loads): a
 * float32 inverse of the badly conditioned kernel matrices of nHSIC (eigenvalues down to
 * eps*m = 1.3e-3 next to m = 128) would lose most digits. The backward rule is
 * d(A^-1) = -A^-1 dA A^-1, applied to the symmetrised cotangent because the forward reads A
 * through (A + A^T) / 2.
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

/** A^-1 of a symmetric positive definite [m, m] tensor (float64 inside, float32 out). */
export const spdInverse: (a: tf.Tensor2D) => tf.Tensor2D = tf.customGrad(
  (...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const a = args[0] as tf.Tensor, save = args[1] as tf.GradSaveFunc;
    const m = a.shape[0];
    const inv64 = symmetrised64(a.dataSync() as Float32Array, m);
    getLinalg().spdInverse(inv64, m);
    const inv = tf.tensor2d(Float32Array.from(inv64), [m, m]);
    save([inv]);
    return {
      value: inv,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [p] = saved;
        const g = dy as tf.Tensor;
        const gs = tf.mul(tf.add(g, tf.transpose(g)), 0.5);
        return tf.neg(tf.matMul(tf.matMul(p, gs), p));
      },
    };
  },
) as unknown as (a: tf.Tensor2D) => tf.Tensor2D;
