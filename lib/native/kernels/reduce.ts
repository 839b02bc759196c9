/**
 * Sum, Mean, Max, Min and Softmax for float32 tensors whose reduced axes form one contiguous
 * block: the input is viewed as [outer, reduced, inner] and reduced without the transpose the
 * cpu kernels make for anything but the innermost axes (bias gradients sum over axis 0).
 * Accumulation is in float64 in the cpu kernels' order, so sums match them bit for bit.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type { NativeBackend } from "../backend.ts";
import { f32, type NativeArgs, out, sizeOf, withFallback } from "./util.ts";

interface Block {
  outer: number;
  reduced: number;
  inner: number;
  outShape: number[];
}

/** [outer, reduced, inner] view for the axes, or null when they are not contiguous. */
function block(shape: number[], axisAttr: unknown, keepDims: boolean): Block | null {
  const axes = tf.util.parseAxisParam(axisAttr as number | number[], shape).sort((a, b) => a - b);
  if (axes.length === 0) return null;
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return null;
  const s = axes[0], e = axes[axes.length - 1];
  const outer = sizeOf(shape.slice(0, s));
  const reduced = sizeOf(shape.slice(s, e + 1));
  const inner = sizeOf(shape.slice(e + 1));
  if (reduced === 0) return null;
  const outShape = keepDims
    ? shape.map((d, i) => (i >= s && i <= e ? 1 : d))
    : shape.filter((_, i) => i < s || i > e);
  return { outer, reduced, inner, outShape };
}

/** Sums over the middle axis of [outer, reduced, inner], in float64. */
function sumBlock(x: Float32Array, { outer, reduced, inner }: Block, y: Float32Array): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * reduced;
      let s = 0;
      for (let r = 0; r < reduced; r++) s += x[base + r];
      y[o] = s;
    }
    return;
  }
  // Narrow rows (a conv bias gradient sums [n h w, c] over its first axis, c = 6): sum groups
  // of g consecutive rows as one wide row, then fold the g partial sums. The order differs from
  // the cpu kernel's only inside float64, far below float32 resolution.
  const g = inner < 64 && reduced >= 4 ? Math.min(Math.floor(256 / inner), reduced) : 1;
  const width = g * inner, groups = Math.floor(reduced / g);
  const acc = new Float64Array(width);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    const base = o * reduced * inner;
    for (let r = 0; r < groups; r++) {
      const row = base + r * width;
      for (let j = 0; j < width; j++) acc[j] += x[row + j];
    }
    for (let r = groups * g; r < reduced; r++) {
      const row = base + r * inner;
      for (let j = 0; j < inner; j++) acc[j] += x[row + j];
    }
    for (let k = 1; k < g; k++) for (let j = 0; j < inner; j++) acc[j] += acc[k * inner + j];
    const yo = o * inner;
    for (let j = 0; j < inner; j++) y[yo + j] = acc[j];
  }
}

/** Max (sign 1) or min (sign -1) over the middle axis; NaN wins, as in the cpu kernels. */
function extremeBlock(
  x: Float32Array,
  { outer, reduced, inner }: Block,
  y: Float32Array,
  max: boolean,
): void {
  for (let o = 0; o < outer; o++) {
    const base = o * reduced * inner;
    const yo = o * inner;
    for (let j = 0; j < inner; j++) y[yo + j] = x[base + j];
    for (let r = 1; r < reduced; r++) {
      const row = base + r * inner;
      if (max) {
        for (let j = 0; j < inner; j++) {
          const v = x[row + j];
          if (v !== v || v > y[yo + j]) y[yo + j] = v;
        }
      } else {
        for (let j = 0; j < inner; j++) {
          const v = x[row + j];
          if (v !== v || v < y[yo + j]) y[yo + j] = v;
        }
      }
    }
  }
}

function reduceKernel(
  name: string,
  axisAttr: string,
  run: (backend: NativeBackend, x: Float32Array, b: Block) => Float32Array,
): tf.KernelConfig {
  return {
    kernelName: name,
    backendName: "native",
    kernelFunc: withFallback(name, ({ inputs, backend, attrs }: NativeArgs) => {
      const x = inputs.x!;
      const xv = f32(backend, x);
      if (!xv || xv.length === 0) return null;
      const b = block(x.shape, attrs![axisAttr], (attrs!.keepDims as boolean) ?? false);
      if (!b) return null;
      return out(backend, b.outShape, run(backend, xv, b));
    }),
  };
}

const sumConfig = reduceKernel(tf.Sum, "axis", (backend, x, b) => {
  const y = backend.alloc(b.outer * b.inner);
  if (backend.ck) backend.ck.sumMiddle(x, b.outer, b.reduced, b.inner, y);
  else sumBlock(x, b, y);
  return y;
});

const meanConfig = reduceKernel(tf.Mean, "axis", (backend, x, b) => {
  // as the cpu kernel: every element divided by the count (float32), then summed
  const scaled = backend.alloc(x.length);
  for (let i = 0; i < x.length; i++) scaled[i] = x[i] / b.reduced;
  const y = backend.alloc(b.outer * b.inner);
  sumBlock(scaled, b, y);
  backend.release(scaled);
  return y;
});

const maxConfig = reduceKernel(tf.Max, "reductionIndices", (backend, x, b) => {
  const y = backend.alloc(b.outer * b.inner);
  extremeBlock(x, b, y, true);
  return y;
});

const minConfig = reduceKernel(tf.Min, "axis", (backend, x, b) => {
  const y = backend.alloc(b.outer * b.inner);
  extremeBlock(x, b, y, false);
  return y;
});

/** Softmax over the last axis, rounded like the cpu kernel's max/sub/exp/sum/div chain. */
const softmaxConfig: tf.KernelConfig = {
  kernelName: tf.Softmax,
  backendName: "native",
  kernelFunc: withFallback(tf.Softmax, ({ inputs, backend, attrs }: NativeArgs) => {
    const x = inputs.logits!;
    const xv = f32(backend, x);
    const rank = x.shape.length;
    const dim = attrs!.dim as number;
    if (!xv || rank === 0 || (dim !== -1 && dim !== rank - 1)) return null;
    const c = x.shape[rank - 1];
    if (c === 0) return null;
    const y = backend.alloc(xv.length);
    for (let o = 0; o < xv.length; o += c) {
      let m = xv[o];
      for (let j = 1; j < c; j++) {
        const v = xv[o + j];
        if (v !== v || v > m) m = v;
      }
      let s = 0;
      for (let j = 0; j < c; j++) {
        const e = Math.fround(Math.exp(Math.fround(xv[o + j] - m)));
        y[o + j] = e;
        s += e;
      }
      const s32 = Math.fround(s);
      for (let j = 0; j < c; j++) y[o + j] = y[o + j] / s32;
    }
    return out(backend, x.shape, y);
  }),
};

/** Kernel configs of this module. */
export const reduceKernels: tf.KernelConfig[] = [
  sumConfig,
  meanConfig,
  maxConfig,
  minConfig,
  softmaxConfig,
];
