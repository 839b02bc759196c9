/**
 * Supervised contrastive loss (Khosla et al. 2020, their reference implementation): features
 * of two augmented views of every sample, L2-normalised; for each anchor i the positives are
 * the other samples of its class (its other view included) and the loss is
 *   -(T / T_base) * mean_i (1/|P(i)|) sum_{p in P(i)} log(exp(z_i.z_p/T) / sum_{a != i} exp(z_i.z_a/T))
 * with T = 0.1 and T_base = 0.07.
 */
import { tf } from "../tf.ts";

/** Temperature of the loss. */
export const SUPCON_TEMPERATURE = 0.1;
/** Base temperature (the loss is scaled by T / T_base). */
export const SUPCON_BASE_TEMPERATURE = 0.07;
/** Output size of the projection head that feeds the loss. */
export const SUPCON_PROJECTION_DIM = 128;

/** Supervised contrastive loss of features z ([2n, p], both views stacked) with labels [2n]. */
export function supConLoss(
  z: tf.Tensor2D,
  labels: Int32Array,
  temperature = SUPCON_TEMPERATURE,
  baseTemperature = SUPCON_BASE_TEMPERATURE,
): tf.Scalar {
  const m = labels.length;
  const pos = new Float32Array(m * m), notSelf = new Float32Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i === j) continue;
      notSelf[i * m + j] = 1;
      if (labels[i] === labels[j]) pos[i * m + j] = 1;
    }
  }
  const posMask = tf.tensor2d(pos, [m, m]), selfMask = tf.tensor2d(notSelf, [m, m]);
  const norm = tf.sqrt(tf.add(tf.sum(tf.square(z), 1, true), 1e-12));
  const u = tf.div(z, norm) as tf.Tensor2D;
  const logits = tf.div(tf.matMul(u, tf.transpose(u)), temperature);
  // Shifting each row by its maximum changes no log-ratio; it only keeps exp() finite.
  const shifted = tf.sub(logits, tf.max(logits, 1, true));
  const denom = tf.log(tf.sum(tf.mul(tf.exp(shifted), selfMask), 1, true));
  const logProb = tf.sub(shifted, denom);
  const meanPos = tf.div(tf.sum(tf.mul(posMask, logProb), 1), tf.maximum(tf.sum(posMask, 1), 1));
  return tf.mul(tf.mean(meanPos), -temperature / baseTemperature) as tf.Scalar;
}
