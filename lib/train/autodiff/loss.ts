/**
 * Gradient of the fused softmax cross-entropy (lib/native/kernels/softmax_ce.ts), which only
 * backends registering that kernel run: dL/dlogits by its companion kernel, (p S - onehot) dy / n
 * per row (S = the row's onehot sum), and dL/donehot = -log softmax(logits) dy / n.
 */
import * as tf from "@tensorflow/tfjs-core";
import { SOFTMAX_CE, SOFTMAX_CE_GRAD } from "../../native/kernels/softmax_ce.ts";

/** Gradient configs of the fused losses. */
export const lossGradients: tf.GradConfig[] = [
  {
    kernelName: SOFTMAX_CE,
    inputsToSave: ["logits", "onehot"],
    gradFunc: (dy, saved) => {
      const [logits, onehot] = saved;
      const n = logits.shape[0];
      return {
        logits: () =>
          tf.engine().runKernel(SOFTMAX_CE_GRAD, {
            logits,
            onehot,
            dy: dy as tf.Tensor,
          }) as tf.Tensor,
        onehot: () => tf.mul(tf.logSoftmax(logits), tf.div(tf.neg(dy as tf.Tensor), n)),
      };
    },
  },
];
