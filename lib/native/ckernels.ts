/**
 * The C kernels of ./c/kernels.c through Deno FFI: direct stride-1 convolutions (forward with
 * bias and ReLU, input and filter gradients; AVX-512, AVX2 or scalar, on a pool of helper
 * threads), max pooling, the ReLU gradient and bias sums, which JS (or im2col + sgemm) runs
 * several times slower. Optional: built by `deno task build:kernels`
 * (scripts/build_kernels.ts) where a C compiler exists; without the library every caller uses
 * its TypeScript twin and gets the same numbers.
 *
 * Where the library is looked for: INFOPLANE_KERNELS (a path, or "off" to disable it), else
 * lib/native/c/libinfoplane_kernels.so beside its source.
 *
 * @module
 */

import { processEnvGet } from "../linalg/mod.ts";
import { ffiGranted, loadOpenBlas } from "../linalg/mod.ts";

/** ABI version the library must report (ip_abi_version in kernels.c). */
export const CKERNELS_ABI = 4;

/** File name the build script writes beside kernels.c. */
export const CKERNELS_FILE = "libinfoplane_kernels.so";

const i32 = "i32" as const, buf = "buffer" as const;
const SYMBOLS = {
  ip_abi_version: { parameters: [], result: i32 },
  ip_direct_isa: { parameters: [i32], result: i32 },
  ip_direct_scratch: { parameters: [buf, i32, i32], result: "i64" },
  ip_conv_direct_forward: {
    parameters: [buf, buf, buf, i32, i32, buf, i32, buf, buf],
    result: "void",
  },
  ip_conv_direct_input: { parameters: [buf, buf, buf, i32, buf, buf], result: "void" },
  ip_conv_direct_filter: { parameters: [buf, buf, buf, i32, buf, buf], result: "void" },
  ip_conv_pool_forward: {
    parameters: [buf, buf, buf, i32, i32, buf, i32, buf, buf, buf],
    result: "void",
  },
  ip_conv_pool_supported: { parameters: [buf], result: i32 },
  ip_conv_pool_scratch: { parameters: [buf, i32], result: "i64" },
  ip_relu_pool_grad: {
    parameters: [buf, buf, buf, i32, i32, i32, i32, i32, buf],
    result: "void",
  },
  ip_gemm_available: { parameters: [], result: i32 },
  ip_gemm_scratch: { parameters: [i32, i32, i32], result: "i64" },
  ip_gemm: {
    parameters: [i32, i32, i32, i32, i32, buf, i32, buf, i32, buf, i32, buf, i32, i32, buf],
    result: "void",
  },
  ip_maxpool: {
    parameters: [buf, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, buf],
    result: "void",
  },
  ip_maxpool_grad: {
    parameters: [buf, buf, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, buf],
    result: "void",
  },
  ip_relu_grad: { parameters: [buf, buf, i32, i32, buf], result: "void" },
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

/** A stride-1 convolution (NHWC, dilation 1): its geometry as the direct kernels take it. */
export interface DirectShape {
  n: number;
  h: number;
  w: number;
  ci: number;
  fh: number;
  fw: number;
  /** Padding before the first row and column (at most fh - 1 and fw - 1). */
  top: number;
  left: number;
  /** Output height and width (stride 1: the padding after follows from them). */
  oh: number;
  ow: number;
  co: number;
}

/** What a direct convolution computes: 0 forward, 1 input gradient, 2 filter gradient. */
export type DirectKind = 0 | 1 | 2;

/** The kernels (see kernels.c for the exact definitions). */
export interface CKernels {
  /** The path that was loaded. */
  readonly path: string;
  /**
   * y = conv2d(x, filter), plus the bias and ReLU when given (NHWC, stride 1). scratch:
   * {@link CKernels.directScratch}(s, 0, threads) floats. Images run on `threads` threads.
   */
  directForward(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    relu: boolean,
    s: DirectShape,
    threads: number,
    scratch: Float32Array,
    y: Float32Array,
  ): void;
  /** dx of the convolution; scratch: directScratch(s, 1, threads) floats. */
  directInput(
    dy: Float32Array,
    filter: Float32Array,
    s: DirectShape,
    threads: number,
    scratch: Float32Array,
    dx: Float32Array,
  ): void;
  /**
   * dW of the convolution: chunks of images summed in a fixed order (the same bits on any
   * number of threads); scratch: directScratch(s, 2, threads) floats.
   */
  directFilter(
    x: Float32Array,
    dy: Float32Array,
    s: DirectShape,
    threads: number,
    scratch: Float32Array,
    dw: Float32Array,
  ): void;
  /** Floats of scratch a direct convolution of `kind` needs on `threads` threads. */
  directScratch(s: DirectShape, kind: DirectKind, threads: number): number;
  /**
   * Lanes of the vector ISA the direct convolutions use (16: AVX-512, 8: AVX2, 1: scalar);
   * `cap` limits it from now on (tests compare the variants). Every variant gives the same bits.
   */
  directIsa(cap?: number): number;
  /**
   * p = maxpool2x2(relu(conv2d(x, filter) + bias)) without writing the activations, plus one
   * code byte per element of p for the gradient (see kernels.c, pool_codes). Only where
   * {@link CKernels.convPoolSupported}; scratch: convPoolScratch(s, threads) floats.
   */
  convPoolForward(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    relu: boolean,
    s: DirectShape,
    threads: number,
    scratch: Float32Array,
    p: Float32Array,
    codes: Uint8Array,
  ): void;
  /** Whether convPoolForward takes this convolution (even output, not a "dot" sweep). */
  convPoolSupported(s: DirectShape): boolean;
  /** Floats of scratch convPoolForward needs on `threads` threads. */
  convPoolScratch(s: DirectShape, threads: number): number;
  /**
   * dz [n, 2 ph, 2 pw, c] of relu-then-pool from dp and the forward's p [n, ph, pw, c] and
   * codes: exactly MaxPoolGrad followed by the ReLU gradient.
   */
  reluPoolGrad(
    dp: Float32Array,
    p: Float32Array,
    codes: Uint8Array,
    n: number,
    ph: number,
    pw: number,
    c: number,
    threads: number,
    dz: Float32Array,
  ): void;
  /**
   * Whether {@link CKernels.gemm} runs on this CPU (AVX-512; the callers use OpenBLAS
   * otherwise). Asked on every call: tests cap the ISA.
   */
  gemmAvailable(): boolean;
  /** Floats of scratch gemm needs for an op(B) of k rows and n columns. */
  gemmScratch(transB: boolean, n: number, k: number): number;
  /**
   * c = op(a) op(b) (+ bias[n]) (ReLU), row-major with leading dimensions; every element one
   * chain of FMAs over k in order (the same bits on any number of threads).
   */
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    c: Float32Array,
    ldc: number,
    bias: Float32Array | null,
    relu: boolean,
    threads: number,
    scratch: Float32Array,
  ): void;
  /** Max pooling, first maximum wins, NaN never does; images on up to `threads` threads. */
  maxPool(x: Float32Array, g: PoolShape, y: Float32Array, threads?: number): void;
  /** Its gradient (dx is overwritten). */
  maxPoolGrad(
    x: Float32Array,
    dy: Float32Array,
    g: PoolShape,
    dx: Float32Array,
    threads?: number,
  ): void;
  /** dx = dy * step(x) (NaN where x is NaN). */
  reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, threads?: number): void;
  /** y[o, j] = sum_r x[o, r, j] in float64, x viewed as [outer, reduced, inner]. */
  sumMiddle(x: Float32Array, outer: number, reduced: number, inner: number, y: Float32Array): void;
}

/** The geometry as kernels.c reads it (D_N .. D_CO); 32 entries: outside V8's heap (NO_BIAS). */
const GEOMETRY = new Int32Array(32);

/** `r` written into GEOMETRY (calls are synchronous: one buffer serves them all). */
function geometry(r: DirectShape): Int32Array {
  GEOMETRY.set([r.n, r.h, r.w, r.ci, r.fh, r.fw, r.top, r.left, r.oh, r.ow, r.co]);
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
    reason = "no OpenBLAS (the native backend, which uses these kernels, runs on it)";
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
    directForward: (x, filter, bias, relu, r, threads, scratch, y) =>
      s.ip_conv_direct_forward(
        x,
        filter,
        offHeapBias(bias),
        bias ? 1 : 0,
        relu ? 1 : 0,
        geometry(r),
        threads,
        scratch,
        y,
      ),
    directInput: (dy, filter, r, threads, scratch, dx) =>
      s.ip_conv_direct_input(dy, filter, geometry(r), threads, scratch, dx),
    directFilter: (x, dy, r, threads, scratch, dw) =>
      s.ip_conv_direct_filter(x, dy, geometry(r), threads, scratch, dw),
    directScratch: (r, kind, threads) => Number(s.ip_direct_scratch(geometry(r), kind, threads)),
    directIsa: (cap = 0) => s.ip_direct_isa(cap),
    convPoolForward: (x, filter, bias, relu, r, threads, scratch, p, codes) =>
      s.ip_conv_pool_forward(
        x,
        filter,
        offHeapBias(bias),
        bias ? 1 : 0,
        relu ? 1 : 0,
        geometry(r),
        threads,
        scratch,
        p,
        codes,
      ),
    convPoolSupported: (r) => s.ip_conv_pool_supported(geometry(r)) === 1,
    convPoolScratch: (r, threads) => Number(s.ip_conv_pool_scratch(geometry(r), threads)),
    reluPoolGrad: (dp, p, codes, n, ph, pw, c, threads, dz) =>
      s.ip_relu_pool_grad(dp, p, codes, n, ph, pw, c, threads, dz),
    gemmAvailable: () => s.ip_gemm_available() === 1,
    gemmScratch: (tb, n, k) => Number(s.ip_gemm_scratch(tb ? 1 : 0, n, k)),
    gemm: (ta, tb, m, n, k, a, lda, b, ldb, c, ldc, bias, relu, threads, scratch) =>
      s.ip_gemm(
        ta ? 1 : 0,
        tb ? 1 : 0,
        m,
        n,
        k,
        a,
        lda,
        b,
        ldb,
        c,
        ldc,
        bias ? offHeapBias(bias) : NO_BIAS,
        (bias ? 1 : 0) | (relu ? 2 : 0),
        threads,
        scratch,
      ),
    maxPool: (x, g, y, threads = 1) =>
      s.ip_maxpool(
        x,
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
        threads,
        y,
      ),
    maxPoolGrad: (x, dy, g, dx, threads = 1) =>
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
        threads,
        dx,
      ),
    reluGrad: (dy, x, dx, threads = 1) => s.ip_relu_grad(dy, x, dx.length, threads, dx),
    sumMiddle: (x, outer, reduced, inner, y) => s.ip_sum_middle(x, outer, reduced, inner, y),
  };
}
