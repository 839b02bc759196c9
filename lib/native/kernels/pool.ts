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
import type { PoolShape } from "../ckernels.ts";
import { kernelThreads } from "../../linalg/mod.ts";
import { f32, type NativeArgs, out, withFallback } from "./util.ts";

/** Window geometry of a pooling over an NHWC tensor (the C kernels take the same). */
type PoolGeom = PoolShape;

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

/** The common 2x2 stride-2 pooling whose windows tile the image exactly (even sizes). */
function is2x2(g: PoolGeom): boolean {
  return g.fh === 2 && g.fw === 2 && g.sh === 2 && g.sw === 2 && g.top === 0 && g.left === 0 &&
    2 * g.oh === g.h && 2 * g.ow === g.w;
}

/** Branch-free 2x2 max (see maxPoolBranchFree); false on non-finite input. */
function maxPool2x2(xv: Float32Array, g: PoolGeom, y: Float32Array): boolean {
  const { n, h, w, c, oh, ow } = g;
  const row = w * c;
  let bad = 0, o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      let p = (b * h + 2 * oy) * row;
      for (let ox = 0; ox < ow; ox++, p += 2 * c) {
        for (let d = 0; d < c; d++) {
          const a = xv[p + d], e = xv[p + c + d], f = xv[p + row + d], k = xv[p + row + c + d];
          const ae = (a + e + Math.abs(a - e)) * 0.5, fk = (f + k + Math.abs(f - k)) * 0.5;
          y[o++] = (ae + fk + Math.abs(ae - fk)) * 0.5;
          bad |= +(a - a + e - e + f - f + k - k !== 0);
        }
      }
    }
  }
  return bad === 0;
}

/** Branch-free 2x2 max-pool gradient: dy to the first maximum of each window. */
function maxPoolGrad2x2(
  xv: Float32Array,
  dyv: Float32Array,
  g: PoolGeom,
  dx: Float32Array,
): boolean {
  const { n, h, w, c, oh, ow } = g;
  const row = w * c;
  let bad = 0, o = 0;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      let p = (b * h + 2 * oy) * row;
      for (let ox = 0; ox < ow; ox++, p += 2 * c) {
        for (let d = 0; d < c; d++, o++) {
          const i0 = p + d, i1 = p + c + d, i2 = p + row + d, i3 = p + row + c + d;
          const a = xv[i0], e = xv[i1], f = xv[i2], k = xv[i3], g0 = dyv[o];
          const ae = Math.fround((a + e + Math.abs(a - e)) * 0.5);
          const fk = Math.fround((f + k + Math.abs(f - k)) * 0.5);
          const m = Math.fround((ae + fk + Math.abs(ae - fk)) * 0.5);
          const h0 = +(a === m), h1 = +(e === m) * (1 - h0);
          const h2 = +(f === m) * (1 - h0) * (1 - h1);
          const h3 = (1 - h0) * (1 - h1) * (1 - h2);
          // windows tile the image: each dx element is written exactly once (no zero fill)
          dx[i0] = h0 * g0;
          dx[i1] = h1 * g0;
          dx[i2] = h2 * g0;
          dx[i3] = h3 * g0;
          bad |= +(a - a + e - e + f - f + k - k + g0 - g0 !== 0);
        }
      }
    }
  }
  return bad === 0;
}

/**
 * Max pooling without data-dependent branches (a compare-and-branch on activations mispredicts
 * about every other time): max(a, b) = (a + b + |a - b|) / 2 in float64, which rounds to
 * exactly max(a, b) in float32 for finite inputs. False (y unfinished) when an input is not
 * finite or a window is empty; maxPoolExact then redoes it.
 */
function maxPoolBranchFree(xv: Float32Array, g: PoolGeom, y: Float32Array): boolean {
  const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = g;
  let bad = 0;
  let o = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - top), y1 = Math.min(h, oy * sh - top + fh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.max(0, ox * sw - left), x1 = Math.min(w, ox * sw - left + fw);
        if (y0 >= y1 || x0 >= x1) return false;
        const p0 = xb + (y0 * w + x0) * c;
        for (let d = 0; d < c; d++) y[o + d] = xv[p0 + d];
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = iy === y0 ? x0 + 1 : x0; ix < x1; ix++) {
            const p = xb + (iy * w + ix) * c;
            for (let d = 0; d < c; d++) {
              const v = xv[p + d], m = y[o + d];
              y[o + d] = (m + v + Math.abs(m - v)) * 0.5;
              bad |= +(v - v !== 0);
            }
          }
        }
        for (let d = 0; d < c; d++) bad |= +(xv[p0 + d] - xv[p0 + d] !== 0);
        o += c;
      }
    }
  }
  return bad === 0;
}

/** The cpu kernel's semantics (first maximum, NaN ignored), with branches. */
function maxPoolExact(xv: Float32Array, g: PoolGeom, y: Float32Array): void {
  const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = g;
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
}

const maxPoolConfig: tf.KernelConfig = {
  kernelName: tf.MaxPool,
  backendName: "native",
  kernelFunc: withFallback(tf.MaxPool, ({ inputs, backend, attrs }: NativeArgs) => {
    const x = inputs.x!;
    const xv = f32(backend, x);
    if (!xv || x.shape.length !== 4) return null;
    const g = poolGeometry(x.shape, attrs!);
    const y = backend.alloc(g.n * g.oh * g.ow * g.c);
    if (backend.ck) {
      backend.ck.maxPool(xv, g, y, kernelThreads(backend.blas.openblas.threads()));
      return out(backend, [g.n, g.oh, g.ow, g.c], y);
    }
    const done = is2x2(g) ? maxPool2x2(xv, g, y) : maxPoolBranchFree(xv, g, y);
    if (!done) maxPoolExact(xv, g, y);
    return out(backend, [g.n, g.oh, g.ow, g.c], y);
  }),
};

/**
 * dx of max pooling, branch-free like maxPoolBranchFree: per window the maximum, then every
 * element adds hit * dy where hit is 1 only for the first element equal to the maximum. False
 * (dx unfinished) for non-finite inputs or gradients, or an empty window.
 */
function maxPoolGradBranchFree(
  xv: Float32Array,
  dyv: Float32Array,
  g: PoolGeom,
  dx: Float32Array,
): boolean {
  const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = g;
  const m = new Float64Array(c), taken = new Float64Array(c);
  let bad = 0;
  let o = 0;
  for (let b = 0; b < n; b++) {
    const xb = b * h * w * c;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - top), y1 = Math.min(h, oy * sh - top + fh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = Math.max(0, ox * sw - left), x1 = Math.min(w, ox * sw - left + fw);
        if (y0 >= y1 || x0 >= x1) return false;
        const p0 = xb + (y0 * w + x0) * c;
        for (let d = 0; d < c; d++) {
          m[d] = xv[p0 + d];
          taken[d] = 0;
          bad |= +(dyv[o + d] - dyv[o + d] !== 0);
        }
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const p = xb + (iy * w + ix) * c;
            for (let d = 0; d < c; d++) {
              const v = xv[p + d], a = m[d];
              m[d] = Math.fround((a + v + Math.abs(a - v)) * 0.5);
              bad |= +(v - v !== 0);
            }
          }
        }
        for (let iy = y0; iy < y1; iy++) {
          for (let ix = x0; ix < x1; ix++) {
            const p = xb + (iy * w + ix) * c;
            for (let d = 0; d < c; d++) {
              const hit = +(xv[p + d] === m[d]) * (1 - taken[d]);
              dx[p + d] += hit * dyv[o + d];
              taken[d] += hit;
            }
          }
        }
        o += c;
      }
    }
  }
  return bad === 0;
}

/** The cpu kernel's semantics with branches: the first maximum gets dy (NaN never does). */
function maxPoolGradExact(
  xv: Float32Array,
  dyv: Float32Array,
  g: PoolGeom,
  dx: Float32Array,
): void {
  const { n, h, w, c, oh, ow, fh, fw, sh, sw, top, left } = g;
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
}

const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: "native",
  kernelFunc: withFallback(tf.MaxPoolGrad, ({ inputs, backend, attrs }: NativeArgs) => {
    const { dy, input } = inputs;
    const xv = f32(backend, input), dyv = f32(backend, dy);
    if (!xv || !dyv || input!.shape.length !== 4) return null;
    const g = poolGeometry(input!.shape, attrs!);
    if (backend.ck) {
      const dx = backend.alloc(xv.length);
      backend.ck.maxPoolGrad(xv, dyv, g, dx, kernelThreads(backend.blas.openblas.threads()));
      return out(backend, input!.shape, dx);
    }
    const tiles = is2x2(g);
    const dx = backend.alloc(xv.length, !tiles);
    const done = tiles ? maxPoolGrad2x2(xv, dyv, g, dx) : maxPoolGradBranchFree(xv, dyv, g, dx);
    if (!done) {
      dx.fill(0);
      maxPoolGradExact(xv, dyv, g, dx);
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
