/**
 * Differentiable nHSIC on a mini-batch, for the regulariser of layer-wise training:
 *   nHSIC(A; T) = Tr(R_A R_T),  R = K H (K H + eps m I)^-1,
 * Gaussian kernel k(a, b) = exp(-|a-b|^2 / (2 sigma^2 d)) with sigma 5 scaled by sqrt(d), right
 * centring, eps 1e-5 (PAPER.md). R_T is formed as in lib/nhsic/nocco.ts through
 * Sherman-Morrison, R = I - delta S^-1 - (1 - delta w) w^T / (1^T w), S = K + delta I,
 * w = S^-1 1, delta = eps m, so that only an SPD inverse is needed (ops/spd_inverse.ts,
 * float64 forward). The target operator R_A carries no gradient and is computed in float64 by
 * the estimator's own code.
 */
import { tf } from "../tf.ts";
import { getLinalg } from "../../linalg/mod.ts";
import { gaussianFromGram, transposeInPlace } from "../../nhsic/mod.ts";
import { noccoFromKernel } from "../../nhsic/mod.ts";
import { spdInverse, spdInverseGiven } from "../ops/spd_inverse.ts";

/** Gaussian width of the regulariser (scaled by sqrt(d)). */
export const REG_SIGMA = 5;
/** Regulariser eps (the inverse uses eps * m on the diagonal). */
export const REG_EPS = 1e-5;

/** Gaussian kernel matrix of the rows of t ([m, d]), differentiable. */
export function gaussianKernel(t: tf.Tensor2D, sigma = REG_SIGMA): tf.Tensor2D {
  const [, d] = t.shape;
  const sq = tf.sum(tf.square(t), 1, true); // [m, 1]
  const gram = tf.matMul(t, tf.transpose(t));
  // Squared distances, clamped at 0 against rounding (the diagonal is 0 up to rounding).
  const dist = tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(gram, 2)));
  return tf.exp(tf.div(dist, -2 * sigma * sigma * d)) as tf.Tensor2D;
}

/** S = K + eps m I, the SPD matrix whose inverse R is formed from. */
export function shiftedKernel(k: tf.Tensor2D, eps = REG_EPS): tf.Tensor2D {
  const m = k.shape[0];
  return tf.add(k, tf.mul(tf.eye(m), eps * m)) as tf.Tensor2D;
}

/**
 * R = K H (K H + eps m I)^-1 of a kernel matrix (right centring), differentiable. `inverse`, when
 * given, is the precomputed S^-1 (backends without synchronous reads).
 */
export function noccoOperator(
  k: tf.Tensor2D,
  eps = REG_EPS,
  inverse: tf.Tensor2D | null = null,
): tf.Tensor2D {
  const m = k.shape[0];
  const delta = eps * m;
  const eye = tf.eye(m);
  const s = shiftedKernel(k, eps);
  const p = inverse ? spdInverseGiven(s, inverse) : spdInverse(s);
  const w = tf.sum(p, 1, true); // S^-1 1 ([m, 1]); S is symmetric
  const sumW = tf.sum(w);
  const outer = tf.mul(tf.sub(1, tf.mul(w, delta)), tf.transpose(w)); // (1 - delta w) w^T
  return tf.sub(tf.sub(eye, tf.mul(p, delta)), tf.div(outer, sumW)) as tf.Tensor2D;
}

/** Rows of t ([m, ...]) as an [m, d] matrix. */
function flatten(t: tf.Tensor): tf.Tensor2D {
  const m = t.shape[0];
  return tf.reshape(t, [m, t.size / m]) as tf.Tensor2D;
}

/**
 * nHSIC(A; T) = sum(R_A^T .* R_T) given the constant R_A^T ([m, m]) and features t ([m, ...]);
 * `inverse` as in {@link noccoOperator}.
 */
export function nhsicAgainst(
  targetRT: tf.Tensor2D,
  t: tf.Tensor,
  inverse: tf.Tensor2D | null = null,
): tf.Scalar {
  const r = noccoOperator(gaussianKernel(flatten(t)), REG_EPS, inverse);
  return tf.sum(tf.mul(targetRT, r)) as tf.Scalar;
}

/** S = K_T + eps m I of features t, not differentiable (to precompute its inverse). */
export function regulariserKernel(t: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => shiftedKernel(gaussianKernel(flatten(t))));
}

/**
 * R_A^T of the rows of a ([m, d] row-major) in float64 with the estimator's code (Gaussian,
 * sigma 5, squared distances, right centring), returned as a float32 [m, m] tensor.
 */
export function targetOperatorT(a: Float32Array, m: number, d: number): tf.Tensor2D {
  const la = getLinalg();
  const f = Float64Array.from(a.subarray(0, m * d));
  const g = la.gram(f, m, d);
  gaussianFromGram(g, m, d, REG_SIGMA, "squared");
  const r = noccoFromKernel(g, m, REG_EPS, "right", la);
  transposeInPlace(r, m);
  return tf.tensor2d(Float32Array.from(r), [m, m]);
}
