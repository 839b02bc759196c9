/**
 * Similarity matching (Noekland & Eidnes 2019, "predsim" without the prediction term): the
 * similarity matrix of a block's features is regressed by MSE onto the label-similarity matrix
 * Y Y^T of the one-hot labels (1 for a pair of the same class, else 0). Conv maps are first
 * reduced to the standard deviation of each channel over the spatial positions. As in the
 * authors' code, each feature row is centred before the cosine (a correlation matrix): ReLU
 * outputs and channel stds are non-negative, and uncentred cosines of non-negative vectors can
 * never reach the target 0 for pairs of different classes.
 */
import { tf } from "../tf.ts";

/** Per-sample features: flat outputs as they are, conv maps as per-channel spatial std. */
export function similarityFeatures(h: tf.Tensor): tf.Tensor2D {
  if (h.rank === 2) return h as tf.Tensor2D;
  const [n, hh, ww, c] = h.shape;
  const flat = tf.reshape(h, [n, hh * ww * c]);
  if (h.rank !== 4) return flat as tf.Tensor2D;
  if (hh * ww === 1) return tf.reshape(h, [n, c]);
  const mean = tf.mean(h, [1, 2], true);
  // Unbiased variance as torch.std; the small floor keeps the sqrt differentiable at 0.
  const variance = tf.div(tf.sum(tf.square(tf.sub(h, mean)), [1, 2]), hh * ww - 1);
  return tf.sqrt(tf.add(variance, 1e-8)) as tf.Tensor2D;
}

/** Cosine similarities of the centred rows of f (correlations), clipped to [-1, 1]. */
export function cosineSimilarityMatrix(f: tf.Tensor2D): tf.Tensor2D {
  const fc = tf.sub(f, tf.mean(f, 1, true));
  const norm = tf.sqrt(tf.add(tf.sum(tf.square(fc), 1, true), 1e-16));
  const u = tf.div(fc, tf.add(norm, 1e-8)) as tf.Tensor2D;
  return tf.clipByValue(tf.matMul(u, tf.transpose(u)), -1, 1) as tf.Tensor2D;
}

/** MSE between the features' cosine-similarity matrix and Y Y^T. */
export function similarityLoss(h: tf.Tensor, onehot: tf.Tensor2D): tf.Scalar {
  const s = cosineSimilarityMatrix(similarityFeatures(h));
  const target = tf.matMul(onehot, tf.transpose(onehot));
  return tf.mean(tf.square(tf.sub(s, target))) as tf.Scalar;
}
