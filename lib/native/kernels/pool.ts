/**
 * MaxPool, MaxPoolGrad, AvgPool and AvgPoolGrad for float32 NHWC tensors (dilation 1), with
 * the channel loop innermost so every access is contiguous. Semantics follow the cpu kernels:
 * max takes the first maximum of the window (NaN never wins), its gradient goes to that
 * element; avg divides by the number of in-bounds elements, while its gradient divides by the
 * full window size (as tfjs does on every backend).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { f32, type NativeArgs, out, withFallback } from "./util.ts";

interface PoolGeom {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

function poolGeometry(xShape: number[], attrs: tf.NamedAttrMap): PoolGeom {
  const info = tf.backend_util.computePool2DInfo(
    xShape as [number, number, number, number],
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  return {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    c: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    fh: info.filterHeight,
    fw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

const maxPoolConfig: tf.KernelConfig = {
  kernelName: tf.MaxPool,
  backendName: "native",
  kernelFunc: withFallback(tf.MaxPool, ({ inputs, backend, attrs }: NativeArgs) => {
    const x = inputs.x!;
    const xv = f32(backend, x);
    if (!xv || x.shape.length !== 4) return null;
    const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = poolGeometry(x.shape, attrs!);
    const y = backend.alloc(n * oh * ow * c);
    let o = 0;
    for (let b = 0; b < n; b++) {
      const xb = b * h * w * c;
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.max(0, oy * sh - top), y1 = Math.min(h, oy * sh - top + fh);
        for (let ox = 0; ox < ow; ox++) {
          const x0 = Math.max(0, ox * sw - left), x1 = Math.min(w, ox * sw - left + fw);
          for (let d = 0; d < c; d++) y[o + d] = -Infinity;
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const p = xb + (iy * w + ix) * c;
              for (let d = 0; d < c; d++) {
                const v = xv[p + d];
                if (v > y[o + d]) y[o + d] = v;
              }
            }
          }
          o += c;
        }
      }
    }
    return out(backend, [n, oh, ow, c], y);
  }),
};

const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: "native",
  kernelFunc: withFallback(tf.MaxPoolGrad, ({ inputs, backend, attrs }: NativeArgs) => {
    const { dy, input } = inputs;
    const xv = f32(backend, input), dyv = f32(backend, dy);
    if (!xv || !dyv || input!.shape.length !== 4) return null;
    const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = poolGeometry(input!.shape, attrs!);
    const dx = backend.alloc(n * h * w * c, true);
    const best = new Float32Array(c);
    const at = new Int32Array(c);
    let o = 0;
    for (let b = 0; b < n; b++) {
      const xb = b * h * w * c;
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.max(0, oy * sh - top), y1 = Math.min(h, oy * sh - top + fh);
        for (let ox = 0; ox < ow; ox++) {
          const x0 = Math.max(0, ox * sw - left), x1 = Math.min(w, ox * sw - left + fw);
          best.fill(-Infinity);
          at.fill(-1);
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const p = xb + (iy * w + ix) * c;
              for (let d = 0; d < c; d++) {
                const v = xv[p + d];
                if (v > best[d]) {
                  best[d] = v;
                  at[d] = p + d;
                }
              }
            }
          }
          for (let d = 0; d < c; d++) if (at[d] >= 0) dx[at[d]] += dyv[o + d];
          o += c;
        }
      }
    }
    return out(backend, input!.shape, dx);
  }),
};

const avgPoolConfig: tf.KernelConfig = {
  kernelName: tf.AvgPool,
  backendName: "native",
  kernelFunc: withFallback(tf.AvgPool, ({ inputs, backend, attrs }: NativeArgs) => {
    const x = inputs.x!;
    const xv = f32(backend, x);
    if (!xv || x.shape.length !== 4) return null;
    const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = poolGeometry(x.shape, attrs!);
    const y = backend.alloc(n * oh * ow * c);
    const acc = new Float64Array(c);
    let o = 0;
    for (let b = 0; b < n; b++) {
      const xb = b * h * w * c;
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.max(0, oy * sh - top), y1 = Math.min(h, oy * sh - top + fh);
        for (let ox = 0; ox < ow; ox++) {
          const x0 = Math.max(0, ox * sw - left), x1 = Math.min(w, ox * sw - left + fw);
          acc.fill(0);
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const p = xb + (iy * w + ix) * c;
              for (let d = 0; d < c; d++) acc[d] += xv[p + d];
            }
          }
          const count = Math.max(0, y1 - y0) * Math.max(0, x1 - x0);
          for (let d = 0; d < c; d++) y[o + d] = acc[d] / count;
          o += c;
        }
      }
    }
    return out(backend, [n, oh, ow, c], y);
  }),
};

const avgPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.AvgPoolGrad,
  backendName: "native",
  kernelFunc: withFallback(tf.AvgPoolGrad, ({ inputs, backend, attrs }: NativeArgs) => {
    const { dy, input } = inputs;
    const dyv = f32(backend, dy);
    if (!dyv || input!.shape.length !== 4) return null;
    const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = poolGeometry(input!.shape, attrs!);
    const acc = new Float64Array(n * h * w * c);
    let o = 0;
    for (let b = 0; b < n; b++) {
      const xb = b * h * w * c;
      for (let oy = 0; oy < oh; oy++) {
        const y0 = Math.max(0, oy * sh - top), y1 = Math.min(h, oy * sh - top + fh);
        for (let ox = 0; ox < ow; ox++) {
          const x0 = Math.max(0, ox * sw - left), x1 = Math.min(w, ox * sw - left + fw);
          for (let iy = y0; iy < y1; iy++) {
            for (let ix = x0; ix < x1; ix++) {
              const p = xb + (iy * w + ix) * c;
              for (let d = 0; d < c; d++) acc[p + d] += dyv[o + d];
            }
          }
          o += c;
        }
      }
    }
    const scale = 1 / (fh * fw);
    const dx = backend.alloc(acc.length);
    for (let i = 0; i < acc.length; i++) dx[i] = acc[i] * scale;
    return out(backend, input!.shape, dx);
  }),
};

/** Kernel configs of this module. */
export const poolKernels: tf.KernelConfig[] = [
  maxPoolConfig,
  maxPoolGradConfig,
  avgPoolConfig,
  avgPoolGradConfig,
];
