/**
 * dy * step(x), the ReLU gradient, in one kernel where the backend has one (the "native"
 * backend's RELU_GRAD, lib/native/kernels/relu_grad.ts) and as tf.mul(dy, tf.step(x))
 * elsewhere: the same numbers either way.
 */
import * as tf from "@tensorflow/tfjs-core";
import { RELU_GRAD } from "../../native/kernels/relu_grad.ts";

/** dL/dx of relu given dL/dy and x (or relu's output y: y > 0 exactly where x > 0). */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (
    dy.dtype === "float32" && x.dtype === "float32" && tf.util.arraysEqual(dy.shape, x.shape) &&
    tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined
  ) {
    return tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;
  }
  return tf.mul(dy, tf.step(x));
}
