/**
 * ReluGrad: dx = dy * step(x) in one pass, for the ReLU gradient of the fused layers in
 * lib/train/autodiff/overrides.ts (which otherwise runs Step then Multiply: two passes, and
 * Step's compare mispredicts on about every other activation). Not a tfjs kernel: that rule
 * calls it on backends that register it and composes mul(dy, step(x)) elsewhere, with the same
 * numbers (tfjs' stock Relu rule, mul(dy, step(x)), gives them too).
 *
 * @module
 */

import type * as tf from "@tensorflow/tfjs-core";
import { f32, type NativeArgs, out } from "./util.ts";
import { kernelThreads } from "../../linalg/mod.ts";

/** Kernel name (inputs dy, x of one shape; output dx). */
export const RELU_GRAD = "InfoplaneReluGrad";

/**
 * The TypeScript twin of the C kernel, on the float bits: dx = dy where x > 0, else dy with its
 * magnitude cleared (dy * 0 keeps dy's sign). Exact, like dy * step(x), for non-NaN x and finite
 * dy; returns false (dx unfinished) otherwise, for the caller to multiply instead.
 */
export function reluGradBits(dy: Float32Array, x: Float32Array, dx: Float32Array): boolean {
  const xi = new Int32Array(x.buffer, x.byteOffset, x.length);
  const gi = new Int32Array(dy.buffer, dy.byteOffset, dy.length);
  const oi = new Int32Array(dx.buffer, dx.byteOffset, dx.length);
  let bad = 0;
  for (let i = 0; i < oi.length; i++) {
    const v = xi[i], g = gi[i];
    // all ones when x > 0 as a float (positive int bits, not +0); else only the sign bit
    oi[i] = g & ((((0 - v) & ~v) >> 31) | 0x80000000);
    // bit 31 set when x is NaN or dy is not finite
    bad |= ((v & 0x7fffffff) + 0x007fffff) | ((g & 0x7fffffff) + 0x00800000);
  }
  return bad >= 0;
}

function reluGradMul(dy: Float32Array, x: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < dx.length; i++) {
    const v = x[i];
    dx[i] = dy[i] * (v !== v ? v : v > 0 ? 1 : 0);
  }
}

const reluGradConfig: tf.KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: "native",
  kernelFunc: (args) => {
    const { inputs, backend } = args as unknown as NativeArgs;
    const { dy, x } = inputs;
    const dyv = f32(backend, dy), xv = f32(backend, x);
    if (!dyv || !xv || dyv.length !== xv.length) {
      // lib/train only calls it on float32 tensors of one shape
      throw new Error(`${RELU_GRAD}: needs float32 dy and x of one shape`);
    }
    const dx = backend.alloc(xv.length);
    if (backend.ck) {
      backend.ck.reluGrad(dyv, xv, dx, kernelThreads(backend.blas.openblas.threads()));
    } else if (!reluGradBits(dyv, xv, dx)) reluGradMul(dyv, xv, dx);
    return out(backend, dy!.shape, dx);
  },
};

/** Kernel configs of this module. */
export const reluGradKernels: tf.KernelConfig[] = [reluGradConfig];
