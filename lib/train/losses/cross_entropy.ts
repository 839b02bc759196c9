/** Softmax cross-entropy, the E2E loss and the default local loss. */
import { SOFTMAX_CE } from "../../native/mod.ts";
import { tf } from "../tf.ts";

/**
 * Mean over the batch of -log softmax(logits)[label]; `onehot` is [n, classes]. One kernel
 * where the backend has it (the "native" backend's SOFTMAX_CE: the same number, ~18 fewer kernel
 * calls per step), else composed from tf ops.
 */
export function crossEntropy(logits: tf.Tensor, onehot: tf.Tensor): tf.Scalar {
  if (
    logits.rank === 2 && logits.dtype === "float32" && onehot.dtype === "float32" &&
    tf.util.arraysEqual(logits.shape, onehot.shape) &&
    tf.getKernel(SOFTMAX_CE, tf.getBackend()) !== undefined
  ) {
    return tf.engine().runKernel(SOFTMAX_CE, { logits, onehot }) as tf.Scalar;
  }
  return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}

/** Number of rows whose arg-max is the label (not differentiable; an async read). */
export async function countCorrect(logits: tf.Tensor, labels: Int32Array): Promise<number> {
  const t = tf.argMax(logits, 1);
  const pred = await t.data();
  t.dispose();
  let c = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) c++;
  return c;
}
