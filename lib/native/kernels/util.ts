/** Shared plumbing of the native kernels: argument types, cpu fallback, float32 access. */

import * as tf from "@tensorflow/tfjs-core";
import type { NativeBackend } from "../backend.ts";

/** What tfjs passes to a kernel function, with the backend typed. */
export interface NativeArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: NativeBackend;
  attrs?: tf.NamedAttrMap;
}

/** A kernel that returns null when it does not handle the case (dtype, layout, broadcast). */
export type NativeKernel = (args: NativeArgs) => tf.TensorInfo | tf.TensorInfo[] | null;

/** The cpu backend's implementation of a kernel (the native backend shares its data layout). */
export function cpuKernel(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, "cpu");
  if (!k) throw new Error(`native backend: no cpu kernel ${name} to fall back to`);
  return k.kernelFunc;
}

/**
 * Kernel configs for `name`: `fn` first, the cpu kernel whenever `fn` returns null. The cpu
 * kernel is looked up on first use, after tfjs-backend-cpu has registered it.
 */
export function withFallback(name: string, fn: NativeKernel): tf.KernelFunc {
  let cpu: tf.KernelFunc | undefined;
  return (args) => {
    const out = fn(args as unknown as NativeArgs);
    if (out !== null) return out;
    fallbacks.set(name, (fallbacks.get(name) ?? 0) + 1);
    cpu ??= cpuKernel(name);
    return cpu(args);
  };
}

const fallbacks = new Map<string, number>();

/**
 * How often each overridden kernel handed a call to the cpu kernel (another dtype, layout or
 * broadcast) since the last reset: the first thing to look at when a model is slower than
 * expected on "native".
 */
export function fallbackCounts(reset = false): Record<string, number> {
  const r = Object.fromEntries(fallbacks);
  if (reset) fallbacks.clear();
  return r;
}

/** The float32 storage of a tensor, or null for other dtypes (which go to the cpu kernel). */
export function f32(backend: NativeBackend, t: tf.TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== "float32") return null;
  const v = backend.data.get(t.dataId).values;
  return v instanceof Float32Array ? v : null;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Wraps a float32 array from backend.alloc() as a kernel output. */
export function out(backend: NativeBackend, shape: number[], values: Float32Array): tf.TensorInfo {
  return backend.makeTensorInfo(shape, "float32", values);
}

/** Activations that _FusedMatMul and FusedConv2D may ask for, applied in place. */
export function applyActivationInPlace(
  y: Float32Array,
  activation: string | undefined,
  leakyAlpha: number,
): boolean {
  const n = y.length;
  switch (activation ?? "linear") {
    case "linear":
      return true;
    case "relu": {
      // Branch-free, as the Relu kernel (./elementwise.ts): Math.max mispredicts half the time
      // on activations. (v + |v|) / 2 is exact except for -Infinity (NaN), so a first pass
      // looks for non-finite values and those arrays take Math.max.
      let inf = 0;
      for (let i = 0; i < n; i++) {
        const v = y[i];
        inf |= +(v - v !== 0);
      }
      if (inf) {
        for (let i = 0; i < n; i++) y[i] = Math.max(0, y[i]);
      } else {
        for (let i = 0; i < n; i++) {
          const v = y[i];
          y[i] = (v + Math.abs(v)) * 0.5;
        }
      }
      return true;
    }
    case "relu6":
      for (let i = 0; i < n; i++) y[i] = Math.min(Math.max(0, y[i]), 6);
      return true;
    case "leakyrelu":
      for (let i = 0; i < n; i++) {
        const v = y[i];
        y[i] = v < 0 ? leakyAlpha * v : v;
      }
      return true;
    case "elu":
      for (let i = 0; i < n; i++) {
        const v = y[i];
        y[i] = v >= 0 ? v : Math.exp(v) - 1;
      }
      return true;
    case "sigmoid":
      for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-y[i]));
      return true;
    default:
      return false; // prelu: needs its weights tensor, done by the cpu kernel
  }
}

/**
 * Adds a bias that broadcasts along the last axis (shape [c], [1, c], ...) to y viewed as rows
 * of length c, in place. False when the bias has another shape.
 */
export function addRowBiasInPlace(
  y: Float32Array,
  c: number,
  bias: Float32Array,
  biasShape: readonly number[],
): boolean {
  if (bias.length !== c || biasShape.length === 0 || biasShape[biasShape.length - 1] !== c) {
    return false;
  }
  for (let o = 0; o < y.length; o += c) {
    for (let j = 0; j < c; j++) y[o + j] += bias[j];
  }
  return true;
}
