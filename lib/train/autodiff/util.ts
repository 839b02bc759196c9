/** Helpers shared by the gradient definitions. */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Whether tfjs runs on lib/native's "native" backend, whose kernels some rules use where the
 * tfjs-wasm workarounds would only cost time (transposed matMul, MaxPoolGrad).
 */
export function onNative(): boolean {
  return tf.getBackend() === "native";
}

/**
 * Sums a broadcast gradient back down to the shape of the input it came from (the adjoint of
 * broadcasting).
 */
export function unbroadcast(grad: tf.Tensor, shape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, grad.shape);
  const r = grad.rank;
  const leading = axes.length === r - 1 && axes.every((a, i) => a === i) &&
    shape.length >= 1 && shape[shape.length - 1] === grad.shape[r - 1];
  const summed = leading ? sumLeadingAxes(grad) : axes.length > 0 ? tf.sum(grad, axes) : grad;
  return summed.shape.length === shape.length && summed.shape.every((d, i) => d === shape[i])
    ? summed
    : tf.reshape(summed, shape);
}

/** Normalises a reduction's axis attribute to sorted non-negative indices. */
export function reductionAxes(axis: number | number[] | undefined, rank: number): number[] {
  return tf.util.parseAxisParam(axis ?? [...Array(rank).keys()], [...Array(rank)].map(() => 1))
    .sort((a, b) => a - b);
}

/** Shape of a reduced tensor with the reduced axes kept as size 1. */
export function keptShape(shape: number[], axes: number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** Explicit transpose of the last two axes (wasm multiplies transposed operands ~10x slower). */
export function transposeLast2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return tf.transpose(x, perm);
}

/** Sum over every axis but the last ([..., c] -> [c]). */
export function sumLeadingAxes(x: tf.Tensor): tf.Tensor1D {
  // Measured on tfjs-wasm: a product with a row of ones repacks the big operand for XNNPACK on
  // every call and is no faster than the transpose + reduce that tf.sum does.
  return tf.sum(x, [...Array(x.rank - 1).keys()]) as tf.Tensor1D;
}

/** Mean over every axis but the last. */
export function meanLeadingAxes(x: tf.Tensor): tf.Tensor1D {
  return tf.mean(x, [...Array(x.rank - 1).keys()]) as tf.Tensor1D;
}
