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
import { ffiGranted } from "../linalg/openblas.ts";

/** ABI version the library must report (ip_abi_version in kernels.c). */
export const CKERNELS_ABI = 1;

/** File name the build script writes beside kernels.c. */
export const CKERNELS_FILE = "libinfoplane_kernels.so";

const i32 = "i32" as const, buf = "buffer" as const;
const SYMBOLS = {
  ip_abi_version: { parameters: [], result: i32 },
  ip_pad_nchw: { parameters: [buf, i32, i32, i32, i32, i32, i32, i32, i32, buf], result: "void" },
  ip_unpad_nhwc: {
    parameters: [buf, i32, i32, i32, i32, i32, i32, i32, i32, buf],
    result: "void",
  },
  ip_rows_pack: { parameters: [buf, i32, i32, i32, i32, i32, i32, i32, i32, buf], result: "void" },
  ip_rows_unpack_add: {
    parameters: [buf, i32, i32, i32, i32, i32, i32, i32, i32, buf],
    result: "void",
  },
  ip_rows_gather: {
    parameters: [buf, i32, i32, i32, i32, i32, buf, i32, i32, buf],
    result: "void",
  },
  ip_rows_spread: { parameters: [buf, i32, i32, i32, i32, i32, buf], result: "void" },
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

/** Geometry of the padded channels-first copy used by the "rows" convolution layout. */
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
}

/** The kernels (see kernels.c for the exact definitions). */
export interface CKernels {
  /** The path that was loaded. */
  readonly path: string;
  /** xp[b, c, iy + top, ix + left] = x[b, iy, ix, c], zero elsewhere (n ci hp wp floats). */
  padNchw(x: Float32Array, s: RowsShape, xp: Float32Array): void;
  /** x[b, iy, ix, c] = xp[b, c, iy + top, ix + left]. */
  unpadNhwc(xp: Float32Array, s: RowsShape, x: Float32Array): void;
  /** Patch matrix [fh fw ci, nb l] of images b0.. of the padded copy. */
  rowsPack(xp: Float32Array, s: RowsShape, b0: number, nb: number, colT: Float32Array): void;
  /** Adjoint of rowsPack: adds colT back onto the padded copy. */
  rowsUnpackAdd(colT: Float32Array, s: RowsShape, b0: number, nb: number, dxp: Float32Array): void;
  /**
   * NHWC output rows of nb images from yT [co, nb l] (W^T colT), dropping the wp - ow extra
   * columns, with the bias added and ReLU applied when given.
   */
  rowsGather(
    yT: Float32Array,
    s: RowsShape,
    co: number,
    nb: number,
    bias: Float32Array | null,
    relu: boolean,
    y: Float32Array,
  ): void;
  /** dyp [nb l, co] from the dy rows of nb images (zeros in the extra columns). */
  rowsSpread(dy: Float32Array, s: RowsShape, co: number, nb: number, dyp: Float32Array): void;
  /** Max pooling, first maximum wins, NaN never does. */
  maxPool(x: Float32Array, g: PoolShape, y: Float32Array): void;
  /** Its gradient (dx is overwritten). */
  maxPoolGrad(x: Float32Array, dy: Float32Array, g: PoolShape, dx: Float32Array): void;
  /** dx = dy * step(x) (NaN where x is NaN). */
  reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void;
  /** y[o, j] = sum_r x[o, r, j] in float64, x viewed as [outer, reduced, inner]. */
  sumMiddle(x: Float32Array, outer: number, reduced: number, inner: number, y: Float32Array): void;
}

/** Stands in for a missing bias (the kernel does not read it). */
const NO_BIAS = new Float32Array(1);

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
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    reason = `${path} not loadable (${msg}); build it with \`deno task build:kernels\``;
    return null;
  }
  const abi = lib.symbols.ip_abi_version();
  if (abi !== CKERNELS_ABI) {
    lib.close();
    reason =
      `${path} has ABI ${abi}, expected ${CKERNELS_ABI}: rebuild with \`deno task build:kernels\``;
    return null;
  }
  cached = wrap(lib.symbols, path);
  return cached;
}

/** Why the last {@link loadCKernels} returned null ("" if it did not). */
export function ckernelsUnavailableReason(): string {
  return reason;
}

/** Forgets the loaded library, so the next {@link loadCKernels} looks again (tests). */
export function resetCKernels(): void {
  cached = undefined;
  reason = "";
}

function wrap(s: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"], path: string): CKernels {
  return {
    path,
    padNchw: (x, r, xp) => s.ip_pad_nchw(x, r.n, r.h, r.w, r.ci, r.top, r.left, r.hp, r.wp, xp),
    unpadNhwc: (xp, r, x) => s.ip_unpad_nhwc(xp, r.n, r.h, r.w, r.ci, r.top, r.left, r.hp, r.wp, x),
    rowsPack: (xp, r, b0, nb, colT) =>
      s.ip_rows_pack(xp, r.ci, r.fh, r.fw, r.hp, r.wp, r.l, b0, nb, colT),
    rowsUnpackAdd: (colT, r, b0, nb, dxp) =>
      s.ip_rows_unpack_add(colT, r.ci, r.fh, r.fw, r.hp, r.wp, r.l, b0, nb, dxp),
    rowsGather: (yT, r, co, nb, bias, relu, y) =>
      s.ip_rows_gather(
        yT,
        co,
        nb,
        r.oh,
        r.ow,
        r.wp,
        bias ?? NO_BIAS,
        bias ? 1 : 0,
        relu ? 1 : 0,
        y,
      ),
    rowsSpread: (dy, r, co, nb, dyp) => s.ip_rows_spread(dy, co, nb, r.oh, r.ow, r.wp, dyp),
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
