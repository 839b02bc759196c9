/**
 * 2-D convolution (NHWC, dilation 1) through cblas_sgemm: Conv2D, FusedConv2D,
 * Conv2DBackpropInput and Conv2DBackpropFilter. The filter [fh, fw, ci, co] is already the
 * K x co matrix (K = fh fw ci) in row-major order. Three layouts:
 *
 * - pointwise (1x1, stride 1, unpadded): x itself is the [pixels, ci] matrix.
 * - rows (stride 1, narrow channels, fw ci < 64: LeNet-style layers): x is copied once into a
 *   zero-padded channels-first image [n, ci, Hp, Wp]. Computing the output on the padded width
 *   Wp (the extra Wp - ow columns are thrown away), every row of the patch matrix, one per
 *   (c, ky, kx) and image, is then a single contiguous run of oh Wp floats of that copy, so
 *   building it is a series of long copies instead of fw ci-float fragments per pixel (whose
 *   per-copy overhead dominates at these channel counts).
 * - cols (everything else): classic im2col, one row of K per output pixel.
 *
 * Scratch matrices are built a chunk of images at a time so they stay a few MB.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import type { NativeBackend } from "../backend.ts";
import { biasAndActivation, NATIVE_ACTIVATIONS } from "./matmul.ts";
import { f32, type NativeArgs, out, withFallback } from "./util.ts";
import type { DirectKind, DirectShape } from "../ckernels.ts";
import { kernelThreads } from "../../linalg/mod.ts";

/**
 * Patch-matrix scratch per chunk, in floats (256 KiB): small enough that the copies that build
 * it and the sgemm that reads it meet in L2 (the best size tried on LeNet's layers,
 * docs/performance.md).
 */
const COL_CHUNK_FLOATS = 1 << 16;
/** The "rows" layout is used when a kernel row of one pixel (fw ci floats) is shorter. */
const ROWS_MAX_RUN = 64;

interface Geom {
  n: number;
  h: number;
  w: number;
  ci: number;
  oh: number;
  ow: number;
  co: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
  /** fh * fw * ci: length of one patch row. */
  k: number;
  /** Bottom and right padding (the "rows" layout pads explicitly). */
  bottom: number;
  right: number;
  layout: "pointwise" | "rows" | "cols";
}

function allOnes(d: unknown): boolean {
  if (d === undefined || d === null) return true;
  return Array.isArray(d) ? d.every((v) => v === 1) : d === 1;
}

/** Geometry of an NHWC, dilation-1 convolution, or null (the cpu kernel handles the rest). */
function geometry(
  xShape: number[],
  filterShape: number[],
  attrs: tf.NamedAttrMap,
): Geom | null {
  const fmt = (attrs.dataFormat as string | undefined) ?? "NHWC";
  if (fmt !== "NHWC" || !allOnes(attrs.dilations)) return null;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
    false,
    "channelsLast",
  );
  const g: Geom = {
    n: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    ci: info.inChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    co: info.outChannels,
    fh: info.filterHeight,
    fw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
    k: info.filterHeight * info.filterWidth * info.inChannels,
    bottom: info.padInfo.bottom,
    right: info.padInfo.right,
    layout: "cols",
  };
  const stride1 = g.sh === 1 && g.sw === 1;
  if (
    stride1 && g.fh === 1 && g.fw === 1 && g.top === 0 && g.left === 0 && g.oh === g.h &&
    g.ow === g.w
  ) {
    g.layout = "pointwise";
  } else if (
    stride1 && g.fw * g.ci < ROWS_MAX_RUN && g.oh === g.h + g.top + g.bottom - g.fh + 1 &&
    g.ow === g.w + g.left + g.right - g.fw + 1
  ) {
    g.layout = "rows";
  }
  return g;
}

/** Images per im2col chunk. */
function chunkImages(g: Geom, perImage = g.oh * g.ow * g.k): number {
  return Math.max(1, Math.min(g.n, Math.floor(COL_CHUNK_FLOATS / Math.max(1, perImage))));
}

// ---- "rows" layout (stride 1) ----

/** Padded geometry: image hp x wp, L = oh * wp output positions per image (ow used). */
interface Padded {
  hp: number;
  wp: number;
  l: number;
  /** Length of the padded channels-first copy, plus room for the discarded columns' reads. */
  len: number;
}

function padded(g: Geom): Padded {
  const hp = g.h + g.top + g.bottom, wp = g.w + g.left + g.right;
  return { hp, wp, l: g.oh * wp, len: g.n * g.ci * hp * wp + g.fw };
}

/** Threads for the C kernels' convolutions (lib/linalg/threads.ts). */
function threadsFor(backend: NativeBackend): number {
  return kernelThreads(backend.blas.openblas.threads());
}

/**
 * Whether the C kernels' direct convolution takes this layer: stride 1 (any channel counts; the
 * 1x1 "pointwise" layout stays a single sgemm) with at most fh - 1 / fw - 1 padding per side.
 */
function direct(backend: NativeBackend, g: Geom): boolean {
  return backend.ck !== null && g.sh === 1 && g.sw === 1 && g.layout !== "pointwise" &&
    g.top < g.fh && g.bottom < g.fh && g.left < g.fw && g.right < g.fw &&
    g.oh === g.h + g.top + g.bottom - g.fh + 1 && g.ow === g.w + g.left + g.right - g.fw + 1 &&
    g.n * g.oh * g.ow * g.co > 0 && g.n * g.h * g.w * g.ci > 0;
}

function directShape(g: Geom): DirectShape {
  const { n, h, w, ci, fh, fw, top, left, oh, ow, co } = g;
  return { n, h, w, ci, fh, fw, top, left, oh, ow, co };
}

/** Runs a direct convolution of the C kernels with pooled scratch. */
function runDirect(
  backend: NativeBackend,
  g: Geom,
  kind: DirectKind,
  fn: (s: DirectShape, threads: number, scratch: Float32Array) => void,
): void {
  const s = directShape(g), threads = threadsFor(backend);
  const scratch = backend.alloc(backend.ck!.directScratch(s, kind, threads));
  fn(s, threads, scratch);
  backend.release(scratch);
}

// All data movement below is strided 2-D copies/adds in OpenBLAS (somatcopy, geadd): the
// element loops they replace cost more in JS than the sgemm itself.

type Blas = NativeBackend["blas"];

/** xp[b, c, iy + top, ix + left] = x[b, iy, ix, c], zero elsewhere; tmp holds h w ci floats. */
function padToChannelsFirst(
  blas: Blas,
  x: Float32Array,
  g: Geom,
  p: Padded,
  xp: Float32Array,
  tmp: Float32Array,
): void {
  const { n, h, w, ci, top, left } = g;
  const { hp, wp } = p;
  const plane = hp * wp, img = h * w * ci;
  xp.fill(0);
  for (let b = 0; b < n; b++) {
    let src = x.subarray(b * img, (b + 1) * img);
    if (ci > 1) {
      blas.transpose(h * w, ci, src, tmp); // [h w, ci] -> [ci, h w]
      src = tmp;
    }
    for (let c = 0; c < ci; c++) {
      const dst = (b * ci + c) * plane + top * wp + left;
      blas.copy2d(h, w, src.subarray(c * h * w), w, xp.subarray(dst), wp);
    }
  }
}

/** dx[b, iy, ix, c] = dxp[b, c, iy + top, ix + left] (the adjoint, minus the padding). */
function unpadFromChannelsFirst(
  blas: Blas,
  dxp: Float32Array,
  g: Geom,
  p: Padded,
  dx: Float32Array,
  tmp: Float32Array,
): void {
  const { n, h, w, ci, top, left } = g;
  const { hp, wp } = p;
  const plane = hp * wp, img = h * w * ci;
  for (let b = 0; b < n; b++) {
    const dxb = dx.subarray(b * img, (b + 1) * img);
    const dst = ci > 1 ? tmp : dxb;
    for (let c = 0; c < ci; c++) {
      const src = (b * ci + c) * plane + top * wp + left;
      blas.copy2d(h, w, dxp.subarray(src), wp, dst.subarray(c * h * w), w);
    }
    if (ci > 1) blas.transpose(ci, h * w, tmp, dxb); // [ci, h w] -> [h w, ci]
  }
}

/**
 * Patch matrix colT [K, nb L] of images b0.. (row (ky fw + kx) ci + c, column
 * (b - b0) L + oy wp + ox'): for each row, one strided copy of a run of L floats per image.
 */
function buildRows(
  blas: Blas,
  xp: Float32Array,
  g: Geom,
  p: Padded,
  b0: number,
  nb: number,
  colT: Float32Array,
): void {
  const { ci, fh, fw } = g;
  const { hp, wp, l } = p;
  const plane = hp * wp, cols = nb * l;
  for (let c = 0; c < ci; c++) {
    for (let ky = 0; ky < fh; ky++) {
      for (let kx = 0; kx < fw; kx++) {
        const src = (b0 * ci + c) * plane + ky * wp + kx;
        const row = ((ky * fw + kx) * ci + c) * cols;
        if (l < 64) {
          blas.copy2d(nb, l, xp.subarray(src), ci * plane, colT.subarray(row), l);
          continue;
        }
        // TypedArray.set is a memcpy, faster than somatcopy's loop for long runs
        for (let b = 0, s = src; b < nb; b++, s += ci * plane) {
          colT.set(xp.subarray(s, s + l), row + b * l);
        }
      }
    }
  }
}

/** Adjoint of buildRows: adds colT back onto the padded copy dxp. */
function addRows(
  blas: Blas,
  colT: Float32Array,
  g: Geom,
  p: Padded,
  b0: number,
  nb: number,
  dxp: Float32Array,
): void {
  const { ci, fh, fw } = g;
  const { hp, wp, l } = p;
  const plane = hp * wp, cols = nb * l;
  for (let c = 0; c < ci; c++) {
    for (let ky = 0; ky < fh; ky++) {
      for (let kx = 0; kx < fw; kx++) {
        const dst = (b0 * ci + c) * plane + ky * wp + kx;
        const row = ((ky * fw + kx) * ci + c) * cols;
        blas.add2d(nb, l, colT.subarray(row), l, dxp.subarray(dst), ci * plane);
      }
    }
  }
}

/** dy rows of images b0.. into dyp [nb L, co] (the discarded columns stay zero). */
function spreadDy(
  blas: Blas,
  dy: Float32Array,
  g: Geom,
  p: Padded,
  b0: number,
  nb: number,
  dyp: Float32Array,
): void {
  const { oh, ow, co } = g;
  blas.copy2d(nb * oh, ow * co, dy.subarray(b0 * oh * ow * co), ow * co, dyp, p.wp * co);
}

/** Bias and ReLU applied while the output is written (the C kernels' direct convolution). */
interface Epilogue {
  bias: Float32Array | null;
  relu: boolean;
}

function rowsForward(
  backend: NativeBackend,
  x: Float32Array,
  filter: Float32Array,
  g: Geom,
  y: Float32Array,
): void {
  const { blas } = backend;
  const p = padded(g);
  const { n, h, w, ci, oh, ow, co, k } = g;
  const xp = backend.alloc(p.len), tmp = backend.alloc(h * w * ci);
  padToChannelsFirst(blas, x, g, p, xp, tmp);
  const per = chunkImages(g, k * p.l);
  const colT = backend.alloc(k * per * p.l);
  const yt = backend.alloc(per * p.l * co), yp = backend.alloc(per * p.l * co);
  for (let b0 = 0; b0 < n; b0 += per) {
    const nb = Math.min(per, n - b0);
    const cols = nb * p.l;
    buildRows(blas, xp, g, p, b0, nb, colT);
    // yT [co, cols] = W^T colT (the faster orientation for co << cols), then [cols, co]
    blas.sgemm(true, false, co, cols, k, 1, filter, co, colT, cols, 0, yt, cols);
    blas.transpose(co, cols, yt, yp);
    // keep the first ow of every wp output columns
    blas.copy2d(nb * oh, ow * co, yp, p.wp * co, y.subarray(b0 * oh * ow * co), ow * co);
  }
  for (const a of [yp, yt, colT, tmp, xp]) backend.release(a);
}

function rowsBackpropFilter(
  backend: NativeBackend,
  x: Float32Array,
  dy: Float32Array,
  g: Geom,
  dw: Float32Array,
): void {
  const { blas } = backend;
  const p = padded(g);
  const { n, h, w, ci, co, k } = g;
  const xp = backend.alloc(p.len), tmp = backend.alloc(h * w * ci);
  padToChannelsFirst(blas, x, g, p, xp, tmp);
  const per = chunkImages(g, k * p.l);
  const colT = backend.alloc(k * per * p.l);
  const dyp = backend.alloc(per * p.l * co, true);
  for (let b0 = 0; b0 < n; b0 += per) {
    const nb = Math.min(per, n - b0);
    const cols = nb * p.l;
    buildRows(blas, xp, g, p, b0, nb, colT);
    spreadDy(blas, dy, g, p, b0, nb, dyp);
    // dW [K, co] (+)= colT dyp
    blas.sgemm(false, false, k, co, cols, 1, colT, cols, dyp, co, b0 === 0 ? 0 : 1, dw, co);
  }
  for (const a of [dyp, colT, tmp, xp]) backend.release(a);
}

function rowsBackpropInput(
  backend: NativeBackend,
  dy: Float32Array,
  filter: Float32Array,
  g: Geom,
  dx: Float32Array,
): void {
  const { blas } = backend;
  const p = padded(g);
  const { n, h, w, ci, co, k } = g;
  const dxp = backend.alloc(p.len, true), tmp = backend.alloc(h * w * ci);
  const per = chunkImages(g, k * p.l);
  const colT = backend.alloc(k * per * p.l);
  const dyp = backend.alloc(per * p.l * co, true);
  for (let b0 = 0; b0 < n; b0 += per) {
    const nb = Math.min(per, n - b0);
    const cols = nb * p.l;
    spreadDy(blas, dy, g, p, b0, nb, dyp);
    // colT [K, cols] = W dyp^T
    blas.sgemm(false, true, k, cols, co, 1, filter, co, dyp, co, 0, colT, cols);
    addRows(blas, colT, g, p, b0, nb, dxp);
  }
  unpadFromChannelsFirst(blas, dxp, g, p, dx, tmp);
  for (const a of [dyp, colT, tmp, dxp]) backend.release(a);
}

// ---- "cols" layout (classic im2col) ----

/**
 * Patch rows of images b0 .. b0+nb-1 into col (row = output pixel, (ky, kx, c) along the
 * row, zeros where the window hangs over the padding). For a fixed ky the valid kx form one
 * contiguous run of x (NHWC), copied in one go.
 */
function im2col(x: Float32Array, g: Geom, b0: number, nb: number, col: Float32Array): void {
  const { h, w, ci, oh, ow, fh, fw, sh, sw, top, left, k } = g;
  const rowLen = fw * ci;
  let r = 0;
  for (let b = b0; b < b0 + nb; b++) {
    const xb = b * h * w * ci;
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - top;
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - left;
        const kx0 = ix0 < 0 ? Math.min(fw, -ix0) : 0;
        const kx1 = Math.max(kx0, Math.min(fw, w - ix0));
        const lo = kx0 * ci, hi = kx1 * ci;
        for (let ky = 0; ky < fh; ky++) {
          const iy = iy0 + ky;
          const dst = r + ky * rowLen;
          if (iy < 0 || iy >= h) {
            for (let t = 0; t < rowLen; t++) col[dst + t] = 0;
            continue;
          }
          for (let t = 0; t < lo; t++) col[dst + t] = 0;
          const src = xb + (iy * w + ix0) * ci;
          if (hi - lo >= 64) {
            col.set(x.subarray(src + lo, src + hi), dst + lo);
          } else {
            for (let t = lo; t < hi; t++) col[dst + t] = x[src + t];
          }
          for (let t = hi; t < rowLen; t++) col[dst + t] = 0;
        }
        r += k;
      }
    }
  }
}

/** Adjoint of im2col: adds each patch row of col back onto dx (which the caller zeroed). */
function col2imAdd(col: Float32Array, g: Geom, b0: number, nb: number, dx: Float32Array): void {
  const { h, w, ci, oh, ow, fh, fw, sh, sw, top, left, k } = g;
  const rowLen = fw * ci;
  let r = 0;
  for (let b = b0; b < b0 + nb; b++) {
    const xb = b * h * w * ci;
    for (let oy = 0; oy < oh; oy++) {
      const iy0 = oy * sh - top;
      for (let ox = 0; ox < ow; ox++) {
        const ix0 = ox * sw - left;
        const kx0 = ix0 < 0 ? Math.min(fw, -ix0) : 0;
        const kx1 = Math.max(kx0, Math.min(fw, w - ix0));
        const lo = kx0 * ci, hi = kx1 * ci;
        for (let ky = 0; ky < fh; ky++) {
          const iy = iy0 + ky;
          if (iy < 0 || iy >= h) continue;
          const src = r + ky * rowLen;
          const dst = xb + (iy * w + ix0) * ci;
          for (let t = lo; t < hi; t++) dx[dst + t] += col[src + t];
        }
        r += k;
      }
    }
  }
}

/**
 * y = conv2d(x, filter) into a pooled array. An epilogue (bias, ReLU) is applied on the way
 * only by the C kernels' direct convolution: the caller checks {@link direct} before passing one.
 */
function conv2dForward(
  backend: NativeBackend,
  x: Float32Array,
  filter: Float32Array,
  g: Geom,
  epilogue: Epilogue | null = null,
): Float32Array {
  const { n, oh, ow, co, k } = g;
  const y = backend.alloc(n * oh * ow * co);
  if (y.length === 0) return y;
  const gemm = backend.blas.sgemm;
  if (g.layout === "pointwise") {
    gemm(false, false, n * oh * ow, co, k, 1, x, k, filter, co, 0, y, co);
    return y;
  }
  if (direct(backend, g)) {
    const bias = epilogue?.bias ?? null, relu = epilogue?.relu ?? false;
    runDirect(
      backend,
      g,
      0,
      (s, t, scr) => backend.ck!.directForward(x, filter, bias, relu, s, t, scr, y),
    );
    return y;
  }
  if (g.layout === "rows") {
    rowsForward(backend, x, filter, g, y);
    return y;
  }
  const per = chunkImages(g);
  const col = backend.alloc(per * oh * ow * k);
  for (let b0 = 0; b0 < n; b0 += per) {
    const nb = Math.min(per, n - b0);
    const rows = nb * oh * ow;
    im2col(x, g, b0, nb, col);
    gemm(false, false, rows, co, k, 1, col, k, filter, co, 0, y.subarray(b0 * oh * ow * co), co);
  }
  backend.release(col);
  return y;
}

const conv2dConfig: tf.KernelConfig = {
  kernelName: tf.Conv2D,
  backendName: "native",
  kernelFunc: withFallback(tf.Conv2D, ({ inputs, backend, attrs }: NativeArgs) => {
    const { x, filter } = inputs;
    const xv = f32(backend, x), fv = f32(backend, filter);
    if (!xv || !fv) return null;
    const g = geometry(x!.shape, filter!.shape, attrs!);
    if (!g) return null;
    return out(backend, [g.n, g.oh, g.ow, g.co], conv2dForward(backend, xv, fv, g));
  }),
};

const fusedConv2dConfig: tf.KernelConfig = {
  kernelName: tf.FusedConv2D,
  backendName: "native",
  kernelFunc: withFallback(tf.FusedConv2D, ({ inputs, backend, attrs }: NativeArgs) => {
    const { x, filter, bias } = inputs;
    const activation = (attrs!.activation as string | undefined) ?? "linear";
    if (!NATIVE_ACTIVATIONS.has(activation)) return null;
    const xv = f32(backend, x), fv = f32(backend, filter);
    if (!xv || !fv || (bias && bias.dtype !== "float32")) return null;
    const g = geometry(x!.shape, filter!.shape, attrs!);
    if (!g) return null;
    const shape = [g.n, g.oh, g.ow, g.co];
    const bv = bias ? f32(backend, bias) : null;
    if (
      direct(backend, g) && (activation === "linear" || activation === "relu") &&
      (!bias || (bv && bv.length === g.co && bias.shape[bias.shape.length - 1] === g.co))
    ) {
      // bias and ReLU while the C kernel writes the output: no second pass over it
      const epilogue = { bias: bv, relu: activation === "relu" };
      return out(backend, shape, conv2dForward(backend, xv, fv, g, epilogue));
    }
    const y = conv2dForward(backend, xv, fv, g);
    const alpha = (attrs!.leakyreluAlpha as number | undefined) ?? 0.2;
    const v = biasAndActivation(backend, y, shape, bias, activation, alpha);
    if (!v) {
      backend.release(y);
      return null;
    }
    return out(backend, shape, v);
  }),
};

const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: "native",
  kernelFunc: withFallback(tf.Conv2DBackpropInput, ({ inputs, backend, attrs }: NativeArgs) => {
    const { dy, filter } = inputs;
    const dyv = f32(backend, dy), fv = f32(backend, filter);
    if (!dyv || !fv) return null;
    const inShape = attrs!.inputShape as number[];
    const g = geometry(inShape, filter!.shape, attrs!);
    if (!g) return null;
    const { n, h, w, ci, oh, ow, co, k } = g;
    const gemm = backend.blas.sgemm;
    if (g.layout === "pointwise") {
      // dx = dy W^T (W is ci x co)
      const dx = backend.alloc(n * h * w * ci);
      if (dx.length > 0) gemm(false, true, n * h * w, ci, co, 1, dyv, co, fv, co, 0, dx, ci);
      return out(backend, inShape, dx);
    }
    if (direct(backend, g)) {
      const dx = backend.alloc(n * h * w * ci);
      runDirect(backend, g, 1, (s, t, scr) => backend.ck!.directInput(dyv, fv, s, t, scr, dx));
      return out(backend, inShape, dx);
    }
    if (g.layout === "rows" && dyv.length > 0 && n * h * w * ci > 0) {
      const dx = backend.alloc(n * h * w * ci);
      rowsBackpropInput(backend, dyv, fv, g, dx);
      return out(backend, inShape, dx);
    }
    const dx = backend.alloc(n * h * w * ci, true);
    if (dx.length === 0 || dyv.length === 0) return out(backend, inShape, dx);
    const per = chunkImages(g);
    const col = backend.alloc(per * oh * ow * k);
    for (let b0 = 0; b0 < n; b0 += per) {
      const nb = Math.min(per, n - b0);
      const rows = nb * oh * ow;
      gemm(false, true, rows, k, co, 1, dyv.subarray(b0 * oh * ow * co), co, fv, co, 0, col, k);
      col2imAdd(col, g, b0, nb, dx);
    }
    backend.release(col);
    return out(backend, inShape, dx);
  }),
};

const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: "native",
  kernelFunc: withFallback(tf.Conv2DBackpropFilter, ({ inputs, backend, attrs }: NativeArgs) => {
    const { x, dy } = inputs;
    const xv = f32(backend, x), dyv = f32(backend, dy);
    if (!xv || !dyv) return null;
    const fShape = attrs!.filterShape as number[];
    const g = geometry(x!.shape, fShape, attrs!);
    if (!g) return null;
    const { n, h, w, ci, oh, ow, co, k } = g;
    const gemm = backend.blas.sgemm;
    const dw = backend.alloc(k * co);
    if (dw.length === 0) return out(backend, fShape, dw);
    if (n * oh * ow === 0) {
      dw.fill(0);
      return out(backend, fShape, dw);
    }
    if (g.layout === "pointwise") {
      // dW = x^T dy over all pixels
      gemm(true, false, ci, co, n * h * w, 1, xv, ci, dyv, co, 0, dw, co);
      return out(backend, fShape, dw);
    }
    if (direct(backend, g)) {
      runDirect(backend, g, 2, (s, t, scr) => backend.ck!.directFilter(xv, dyv, s, t, scr, dw));
      return out(backend, fShape, dw);
    }
    if (g.layout === "rows") {
      rowsBackpropFilter(backend, xv, dyv, g, dw);
      return out(backend, fShape, dw);
    }
    const per = chunkImages(g);
    const col = backend.alloc(per * oh * ow * k);
    for (let b0 = 0; b0 < n; b0 += per) {
      const nb = Math.min(per, n - b0);
      const rows = nb * oh * ow;
      im2col(xv, g, b0, nb, col);
      const beta = b0 === 0 ? 0 : 1;
      gemm(true, false, k, co, rows, 1, col, k, dyv.subarray(b0 * oh * ow * co), co, beta, dw, co);
    }
    backend.release(col);
    return out(backend, fShape, dw);
  }),
};

/** Kernel configs of this module. */
export const convKernels: tf.KernelConfig[] = [
  conv2dConfig,
  fusedConv2dConfig,
  conv2dBackpropInputConfig,
  conv2dBackpropFilterConfig,
];

// ---- conv + bias + ReLU + 2x2 max pooling in one kernel ----

/**
 * Kernel name: a stride-1 conv2d (inputs x, filter, bias; attrs as FusedConv2D's: strides, pad,
 * dataFormat, dilations, dimRoundingMode) with bias and ReLU, then 2x2 max pooling with stride 2
 * over its even output. One output, the pooled p: the activations are never written out (with
 * the C kernels each image's stay in a worker's scratch and are pooled there). One code byte per
 * element of p (which window element is the first maximum, which elements are NaN) is attached
 * to p's data (NativeBackend.attach) for {@link RELU_POOL_GRAD}. The values are those of
 * FusedConv2D (relu) followed by MaxPool, bit for bit; the gradient (../conv_pool_grad.ts) is
 * that of the two.
 */
export const CONV_RELU_POOL = "InfoplaneConvReluPool";

/**
 * Kernel name: dz, the gradient of the convolution's pre-activation, from dy (the gradient of
 * p) and p (a {@link CONV_RELU_POOL} output): what MaxPoolGrad and then the ReLU gradient give.
 */
export const RELU_POOL_GRAD = "InfoplaneReluPoolGrad";

/** The first maximum of a window (NaN never wins) and its code (see kernels.c, pool_codes). */
function windowCode(a: number, e: number, f: number, k: number): [number, number] {
  let m = -Infinity;
  if (a > m) m = a;
  if (e > m) m = e;
  if (f > m) m = f;
  if (k > m) m = k;
  const hit = a === m ? 0 : e === m ? 1 : f === m ? 2 : k === m ? 3 : -1;
  const nan = (a !== a ? 16 : 0) | (e !== e ? 32 : 0) | (f !== f ? 64 : 0) | (k !== k ? 128 : 0);
  return [m, (hit >= 0 ? hit | 4 : 0) | nan];
}

/** TypeScript twin of the C pooling with codes: y [n, 2 ph, 2 pw, c] -> p, codes. */
function poolWithCodes(
  y: Float32Array,
  n: number,
  ph: number,
  pw: number,
  c: number,
  p: Float32Array,
  codes: Uint8Array,
): void {
  const row = 2 * pw * c;
  for (let r = 0; r < n * ph; r++) {
    const r0 = 2 * r * row, r1 = r0 + row;
    for (let ox = 0; ox < pw; ox++) {
      const p0 = r0 + 2 * ox * c, p1 = r1 + 2 * ox * c, o = (r * pw + ox) * c;
      for (let d = 0; d < c; d++) {
        const [m, code] = windowCode(y[p0 + d], y[p0 + c + d], y[p1 + d], y[p1 + c + d]);
        p[o + d] = m;
        codes[o + d] = code;
      }
    }
  }
}

/** TypeScript twin of ip_relu_pool_grad. */
function reluPoolGradJs(
  dp: Float32Array,
  p: Float32Array,
  codes: Uint8Array,
  n: number,
  ph: number,
  pw: number,
  c: number,
  dz: Float32Array,
): void {
  const row = 2 * pw * c;
  const at = [0, c, row, row + c];
  for (let r = 0; r < n * ph; r++) {
    const r0 = 2 * r * row;
    for (let ox = 0; ox < pw; ox++) {
      const base = r0 + 2 * ox * c, o = (r * pw + ox) * c;
      for (let d = 0; d < c; d++) {
        const code = codes[o + d], hit = code & 4 ? code & 3 : -1;
        for (let i = 0; i < 4; i++) {
          dz[base + at[i] + d] = code & (16 << i)
            ? NaN
            : i === hit
            ? dp[o + d] * (p[o + d] > 0 ? 1 : 0)
            : 0;
        }
      }
    }
  }
}

const convReluPoolConfig: tf.KernelConfig = {
  kernelName: CONV_RELU_POOL,
  backendName: "native",
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args as unknown as NativeArgs;
    const { x, filter, bias } = inputs;
    const xv = f32(backend, x), fv = f32(backend, filter), bv = f32(backend, bias);
    const g = xv && fv && bv ? geometry(x!.shape, filter!.shape, attrs!) : null;
    if (!g || g.sh !== 1 || g.sw !== 1 || g.oh % 2 || g.ow % 2 || bv!.length !== g.co) {
      throw new Error(
        `${CONV_RELU_POOL}: needs float32 x, filter and bias [co], stride 1, NHWC, dilation 1, ` +
          "an even output",
      );
    }
    const { n, co } = g, ph = g.oh / 2, pw = g.ow / 2, len = n * ph * pw * co;
    const p = backend.alloc(len);
    const codeBuf = backend.alloc(Math.max(1, Math.ceil(len / 4)));
    const codes = new Uint8Array(codeBuf.buffer, codeBuf.byteOffset, len);
    const ck = backend.ck, s = directShape(g);
    if (len > 0 && direct(backend, g) && ck!.convPoolSupported(s)) {
      const threads = threadsFor(backend);
      const scratch = backend.alloc(ck!.convPoolScratch(s, threads));
      ck!.convPoolForward(xv!, fv!, bv, true, s, threads, scratch, p, codes);
      backend.release(scratch);
    } else if (len > 0) {
      const fused = direct(backend, g);
      let y: Float32Array | null = conv2dForward(
        backend,
        xv!,
        fv!,
        g,
        fused ? { bias: bv, relu: true } : null,
      );
      if (!fused) y = biasAndActivation(backend, y, [n, g.oh, g.ow, co], bias, "relu", 0);
      poolWithCodes(y!, n, ph, pw, co, p, codes);
      backend.release(y!);
    }
    const info = out(backend, [n, ph, pw, co], p);
    backend.attach(info.dataId, codeBuf);
    return info;
  },
};

const reluPoolGradConfig: tf.KernelConfig = {
  kernelName: RELU_POOL_GRAD,
  backendName: "native",
  kernelFunc: (args) => {
    const { inputs, backend } = args as unknown as NativeArgs;
    const { dy, p } = inputs;
    const dyv = f32(backend, dy), pv = f32(backend, p);
    const codeBuf = p ? backend.attached(p.dataId) : undefined;
    if (!dyv || !pv || !codeBuf || dyv.length !== pv.length || p!.shape.length !== 4) {
      throw new Error(`${RELU_POOL_GRAD}: needs dy and p, an output of ${CONV_RELU_POOL}`);
    }
    const [n, ph, pw, c] = p!.shape;
    const codes = new Uint8Array(codeBuf.buffer, codeBuf.byteOffset, pv.length);
    const dz = backend.alloc(pv.length * 4);
    if (backend.ck) {
      backend.ck.reluPoolGrad(dyv, pv, codes, n, ph, pw, c, threadsFor(backend), dz);
    } else {
      reluPoolGradJs(dyv, pv, codes, n, ph, pw, c, dz);
    }
    return out(backend, [n, 2 * ph, 2 * pw, c], dz);
  },
};

/** The fused conv-ReLU-pool kernels (registered by ../mod.ts; gradient in ../conv_pool_grad.ts). */
export const convPoolKernels: tf.KernelConfig[] = [convReluPoolConfig, reluPoolGradConfig];
