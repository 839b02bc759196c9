/**
 * The C kernels of ./c/kernels.c through Deno FFI: data movement and element-wise loops of a
 * convolutional training step (patch matrices, padding, max pooling, ReLU gradient, bias
 * sums), which JS runs several times slower. Optional: built by `deno task build:kernels`
 * (scripts/build_kernels.ts) where a C compiler exists; without the library every caller uses
 * its TypeScript twin and gets the same numbers.
 *
 * Where the library is looked for: INFOPLANE_KERNELS (a path, or "off" to disable it), else
 * lib/native/c/libinfoplane_kernels.so beside its source.
 *
 * @module
 */

import { processEnvGet } from "../linalg/cpu_features.ts";
import { ffiGranted, loadOpenBlas } from "../linalg/openblas.ts";

/** ABI version the library must report (ip_abi_version in kernels.c). */
export const CKERNELS_ABI = 3;

/** File name the build script writes beside kernels.c. */
export const CKERNELS_FILE = "libinfoplane_kernels.so";

const i32 = "i32" as const, buf = "buffer" as const;
const SYMBOLS = {
  ip_abi_version: { parameters: [], result: i32 },
  ip_bind_blas: { parameters: [buf], result: i32 },
  ip_conv_rows_forward: {
    parameters: [buf, buf, buf, i32, i32, buf, i32, buf, buf, buf],
    result: "void",
  },
  ip_conv_rows_filter: {
    parameters: [buf, buf, buf, i32, buf, buf, buf, buf],
    result: "void",
  },
  ip_conv_rows_input: { parameters: [buf, buf, buf, i32, buf, buf, buf], result: "void" },
  ip_maxpool: {
    parameters: [buf, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, buf],
    result: "void",
  },
  ip_maxpool_grad: {
    parameters: [buf, buf, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, buf],
    result: "void",
  },
  ip_relu_grad: { parameters: [buf, buf, i32, buf], result: "void" },
  ip_sum_middle: { parameters: [buf, i32, i32, i32, buf], result: "void" },
} as const;

/** Geometry of a pooling window sweep over an NHWC tensor. */
export interface PoolShape {
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

/**
 * A stride-1 convolution in the "rows" layout (lib/native/kernels/conv.ts): its geometry, the
 * padded channels-first copy and the images per chunk (one chunk per thread at a time).
 */
export interface RowsShape {
  n: number;
  h: number;
  w: number;
  ci: number;
  fh: number;
  fw: number;
  top: number;
  left: number;
  /** Padded height and width. */
  hp: number;
  wp: number;
  /** Output height and width (stride 1: oh = hp - fh + 1, ow = wp - fw + 1). */
  oh: number;
  ow: number;
  /** Output positions per image on the padded width (oh wp). */
  l: number;
  /** Output channels. */
  co: number;
  /** Images per chunk. */
  per: number;
}

/** The kernels (see kernels.c for the exact definitions). */
export interface CKernels {
  /** The path that was loaded. */
  readonly path: string;
  /**
   * y = conv2d(x, filter), plus the bias and ReLU when given (NHWC). xp: scratch of
   * {@link rowsScratch}.padded floats, work of .work. Threads: chunks of images run in parallel.
   */
  convForward(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    relu: boolean,
    s: RowsShape,
    threads: number,
    xp: Float32Array,
    work: Float32Array,
    y: Float32Array,
  ): void;
  /**
   * dW of the convolution; the chunks' products are summed in chunk order (the same result
   * whatever the thread count). xp and parts: scratch of {@link rowsScratch} floats.
   */
  convFilter(
    x: Float32Array,
    dy: Float32Array,
    s: RowsShape,
    threads: number,
    xp: Float32Array,
    work: Float32Array,
    parts: Float32Array,
    dw: Float32Array,
  ): void;
  /** dx of the convolution; dxp: scratch of {@link rowsScratch}.padded floats. */
  convInput(
    dy: Float32Array,
    filter: Float32Array,
    s: RowsShape,
    threads: number,
    dxp: Float32Array,
    work: Float32Array,
    dx: Float32Array,
  ): void;
  /** Max pooling, first maximum wins, NaN never does. */
  maxPool(x: Float32Array, g: PoolShape, y: Float32Array): void;
  /** Its gradient (dx is overwritten). */
  maxPoolGrad(x: Float32Array, dy: Float32Array, g: PoolShape, dx: Float32Array): void;
  /** dx = dy * step(x) (NaN where x is NaN). */
  reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** y[o, j] = sum_r x[o, r, j] in float64, x viewed as [outer, reduced, inner]. */
  sumMiddle(x: Float32Array, outer: number, reduced: number, inner: number, y: Float32Array): void;
}

/**
 * Scratch sizes (floats) of the convolutions on `threads` threads: the padded copy, the per-chunk
 * dW products, the threads' working matrices.
 */
export function rowsScratch(
  r: RowsShape,
  threads: number,
): { padded: number; parts: number; work: number } {
  const chunks = Math.ceil(r.n / r.per), k = r.fh * r.fw * r.ci;
  return {
    padded: r.n * r.ci * r.hp * r.wp + r.fw,
    parts: chunks * k * r.co,
    // each thread's patch matrix and product for one chunk (the library allocates nothing)
    work: threads * (k + r.co) * r.per * r.l,
  };
}

/** The geometry as kernels.c reads it (G_N .. G_PER); 32 entries: outside V8's heap (NO_BIAS). */
const GEOMETRY = new Int32Array(32);

/** `r` written into GEOMETRY (calls are synchronous: one buffer serves them all). */
function geometry(r: RowsShape): Int32Array {
  GEOMETRY.set([
    r.n,
    r.h,
    r.w,
    r.ci,
    r.fh,
    r.fw,
    r.top,
    r.left,
    r.hp,
    r.wp,
    r.oh,
    r.ow,
    r.co,
    r.per,
  ]);
  return GEOMETRY;
}

/**
 * Stands in for a missing bias (the kernel does not read it). 32 floats: V8 keeps typed arrays of
 * up to 64 bytes inside its own heap, and FFI arguments are better off outside it.
 */
const NO_BIAS = new Float32Array(32);

const BIAS_BUF = new Float32Array(64);

/** The bias, copied outside V8's heap when it is short enough to live inside it. */
function offHeapBias(bias: Float32Array | null): Float32Array {
  if (!bias) return NO_BIAS;
  if (bias.byteLength > 64 || bias.length > BIAS_BUF.length) return bias;
  BIAS_BUF.set(bias);
  return BIAS_BUF;
}

let cached: CKernels | null | undefined;
let reason = "";

/** Where the library is looked for (INFOPLANE_KERNELS, else beside kernels.c). */
export function ckernelsPath(): string | null {
  const env = processEnvGet("INFOPLANE_KERNELS")?.trim();
  if (env === "off" || env === "0" || env === "none") return null;
  if (env) return env;
  return new URL(`./c/${CKERNELS_FILE}`, import.meta.url).pathname;
}

/**
 * Loads the C kernels once per isolate, or returns null (then {@link ckernelsUnavailableReason}
 * says why: not built, disabled, no FFI permission, another ABI). Never throws.
 */
export function loadCKernels(): CKernels | null {
  if (cached !== undefined) return cached;
  cached = null;
  const path = ckernelsPath();
  if (path === null) {
    reason = "disabled by INFOPLANE_KERNELS";
    return null;
  }
  if (typeof Deno?.dlopen !== "function" || !ffiGranted(path)) {
    reason = "FFI permission not granted (run with --allow-ffi)";
    return null;
  }
  const blas = loadOpenBlas();
  if (!blas) {
    reason = "no OpenBLAS (the convolutions call its sgemm)";
    return null;
  }
  const hint = "rebuild it with `deno task build:kernels`";
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (e) {
    // also what a library built from another version of kernels.c (other symbols) gives
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    reason = `${path} not loadable (${msg}); ${hint}`;
    return null;
  }
  const abi = lib.symbols.ip_abi_version();
  if (abi !== CKERNELS_ABI) {
    lib.close();
    reason = `${path} has ABI ${abi}, expected ${CKERNELS_ABI}: ${hint}`;
    return null;
  }
  if (lib.symbols.ip_bind_blas(new TextEncoder().encode(`${blas.path}\0`)) !== 1) {
    lib.close();
    reason = `${path} could not bind cblas_sgemm of ${blas.path}`;
    return null;
  }
  cached = wrap(lib.symbols, path);
  return cached;
}

/** Why the last {@link loadCKernels} returned null ("" if it did not). */
export function ckernelsUnavailableReason(): string {
  return reason;
}

function wrap(s: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"], path: string): CKernels {
  return {
    path,
    convForward: (x, filter, bias, relu, r, threads, xp, work, y) =>
      s.ip_conv_rows_forward(
        x,
        filter,
        offHeapBias(bias),
        bias ? 1 : 0,
        relu ? 1 : 0,
        geometry(r),
        threads,
        xp,
        work,
        y,
      ),
    convFilter: (x, dy, r, threads, xp, work, parts, dw) =>
      s.ip_conv_rows_filter(x, dy, geometry(r), threads, xp, work, parts, dw),
    convInput: (dy, filter, r, threads, dxp, work, dx) =>
      s.ip_conv_rows_input(dy, filter, geometry(r), threads, dxp, work, dx),
    maxPool: (x, g, y) =>
      s.ip_maxpool(x, g.n, g.h, g.w, g.c, g.oh, g.ow, g.fh, g.fw, g.sh, g.sw, g.top, g.left, y),
    maxPoolGrad: (x, dy, g, dx) =>
      s.ip_maxpool_grad(
        x,
        dy,
        g.n,
        g.h,
        g.w,
        g.c,
        g.oh,
        g.ow,
        g.fh,
        g.fw,
        g.sh,
        g.sw,
        g.top,
        g.left,
        dx,
      ),
    reluGrad: (dy, x, dx) => s.ip_relu_grad(dy, x, dx.length, dx),
    sumMiddle: (x, outer, reduced, inner, y) => s.ip_sum_middle(x, outer, reduced, inner, y),
  };
}
