/**
 * Softmax cross-entropy in two kernels instead of ~18 (max, sub, exp, sum, log, sub, mul, sum,
 * mean, neg and their gradients): with classes = 10 each op costs far more in tfjs' engine
 * (tensor bookkeeping, tape) than its arithmetic, and layer-wise training has one loss per
 * layer. Not tfjs kernels: lib/train/losses/cross_entropy.ts calls them on backends that
 * register them (and composes tf ops elsewhere); lib/train/autodiff/overrides.ts holds the gradient.
 *
 * The loss is rounded like the composition on this backend (each step in float32, sums in
 * float64), so it is the same number; the gradient is the closed form (p S - onehot) / n, equal
 * to the composition's within float32 rounding.
 *
 * @module
 */

import type * as tf from "@tensorflow/tfjs-core";
import { f32, type NativeArgs, out } from "./util.ts";

/** Kernel name: inputs logits [n, c], onehot [n, c]; output the mean loss (a scalar). */
export const SOFTMAX_CE = "InfoplaneSoftmaxCrossEntropy";
/** Kernel name: inputs logits, onehot, dy (scalar); output dL/dlogits [n, c]. */
export const SOFTMAX_CE_GRAD = "InfoplaneSoftmaxCrossEntropyGrad";

const fround = Math.fround;

/** log softmax of row `o` (c entries from offset o) into lsm, as tf.logSoftmax rounds it. */
function logSoftmaxRow(x: Float32Array, o: number, c: number, lsm: Float32Array): void {
  let m = x[o];
  for (let j = 1; j < c; j++) {
    const v = x[o + j];
    if (v !== v || v > m) m = v;
  }
  let s = 0;
  for (let j = 0; j < c; j++) {
    lsm[j] = x[o + j] - m; // stored in float32: fround(x - m)
    s += fround(Math.exp(lsm[j]));
  }
  const logs = fround(Math.log(fround(s)));
  for (let j = 0; j < c; j++) lsm[j] = lsm[j] - logs;
}

function operands(args: Parameters<tf.KernelFunc>[0], name: string) {
  const { inputs, backend } = args as unknown as NativeArgs;
  const logits = inputs.logits!, onehot = inputs.onehot!;
  const x = f32(backend, logits), y = f32(backend, onehot);
  if (!x || !y || logits.shape.length !== 2 || x.length !== y.length) {
    // lib/train/losses/cross_entropy.ts only calls it on float32 [n, c] pairs
    throw new Error(`${name}: needs float32 logits and onehot of one [n, c] shape`);
  }
  const [n, c] = logits.shape;
  return { backend, x, y, n, c };
}

const lossConfig: tf.KernelConfig = {
  kernelName: SOFTMAX_CE,
  backendName: "native",
  kernelFunc: (args) => {
    const { backend, x, y, n, c } = operands(args, SOFTMAX_CE);
    const lsm = new Float32Array(c);
    let total = 0;
    for (let i = 0; i < n; i++) {
      logSoftmaxRow(x, i * c, c, lsm);
      let row = 0;
      for (let j = 0; j < c; j++) row += fround(y[i * c + j] * lsm[j]);
      total += fround(fround(row) / n);
    }
    const v = backend.alloc(1);
    v[0] = -fround(total);
    return out(backend, [], v);
  },
};

const gradConfig: tf.KernelConfig = {
  kernelName: SOFTMAX_CE_GRAD,
  backendName: "native",
  kernelFunc: (args) => {
    const { backend, x, y, n, c } = operands(args, SOFTMAX_CE_GRAD);
    const dyv = f32(backend, (args.inputs as tf.NamedTensorInfoMap).dy);
    const scale = (dyv ? dyv[0] : 1) / n;
    const lsm = new Float32Array(c);
    const g = backend.alloc(n * c);
    for (let i = 0; i < n; i++) {
      logSoftmaxRow(x, i * c, c, lsm);
      let s = 0;
      for (let j = 0; j < c; j++) s += y[i * c + j];
      for (let j = 0; j < c; j++) g[i * c + j] = (Math.exp(lsm[j]) * s - y[i * c + j]) * scale;
    }
    return out(backend, [n, c], g);
  },
};

/** Kernel configs of this module. */
export const softmaxCeKernels: tf.KernelConfig[] = [lossConfig, gradConfig];
