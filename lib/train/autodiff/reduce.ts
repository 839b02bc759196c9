/** Gradients of reductions: Sum, Mean, Max. */
import * as tf from "@tensorflow/tfjs-core";
import { keptShape, reductionAxes } from "./util.ts";

/** Broadcasts a reduced gradient back over the reduced axes of `shape`. */
function spread(dy: tf.Tensor, shape: number[], axes: number[]): tf.Tensor {
  return tf.mul(tf.reshape(dy, keptShape(shape, axes)), tf.ones(shape));
}

/** Gradient configs of the reductions. */
export const reduceGradients: tf.GradConfig[] = [
  {
    kernelName: tf.Sum,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0];
      const axes = reductionAxes(attrs.axis as number | number[], x.rank);
      return { x: () => spread(dy as tf.Tensor, x.shape, axes) };
    },
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ["x"],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0];
      const axes = reductionAxes(attrs.axis as number | number[], x.rank);
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      return { x: () => tf.div(spread(dy as tf.Tensor, x.shape, axes), count) };
    },
  },
  {
    kernelName: tf.Max,
    inputsToSave: ["x"],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved;
      const axes = reductionAxes(attrs.reductionIndices as number | number[], x.rank);
      const kept = keptShape(x.shape, axes);
      // The whole gradient goes to every maximal entry (as in tfjs).
      const mask = tf.cast(tf.equal(x, tf.reshape(y, kept)), "float32");
      return { x: () => tf.mul(mask, tf.reshape(dy as tf.Tensor, kept)) };
    },
  },
];
