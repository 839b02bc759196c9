/**
 * OpenBLAS backend through Deno FFI (needs --allow-ffi; --allow-env and --allow-read for the
 * core-type fix-up and INFOPLANE_OPENBLAS). gram is cblas_dsyrk, spdInverse is the Fortran
 * LAPACK pair dpotrf_ + dpotri_ (Debian's libopenblas0-* ships LAPACK in the same .so but
 * no LAPACKE symbols, so the Fortran ABI is used: every argument by pointer).
 *
 * Row-major vs column-major: a row-major m x m buffer read as column-major is the transpose.
 * For a symmetric matrix that is the same matrix, so the buffer is passed as is and only the
 * triangle flips: Fortran's "U" is our row-major lower triangle.
 *
 * @module
 */

import type { Linalg } from "./types.ts";
import { gramTarget, mirrorLowerToUpper } from "./portable.ts";
import { cpuFlags, openblasCoreTypeFor, processEnvGet, processEnvSet } from "./cpu_features.ts";

const CBLAS_ROW_MAJOR = 101;
const CBLAS_LOWER = 122;
const CBLAS_NO_TRANS = 111;

const SYMBOLS = {
  cblas_dsyrk: {
    // order, uplo, trans, n, k, alpha, A, lda, beta, C, ldc
    parameters: ["i32", "i32", "i32", "i32", "i32", "f64", "buffer", "i32", "f64", "buffer", "i32"],
    result: "void",
  },
  // (uplo, n, a, lda, info, hidden length of uplo): gfortran appends the CHARACTER length;
  // OpenBLAS's own C implementations ignore it, so passing it is right for both.
  dpotrf_: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "usize"],
    result: "void",
  },
  dpotri_: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "usize"],
    result: "void",
  },
  // float32 BLAS for the tfjs "native" backend (lib/native). Optional, so that an OpenBLAS that
  // lacks one of them still serves the float64 kernels above; lib/native checks for null.
  cblas_sgemm: {
    // order, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
    optional: true,
  },
  cblas_somatcopy: {
    // OpenBLAS extension: order, trans, rows, cols, alpha, A, lda, B, ldb (B = alpha op(A))
    parameters: ["i32", "i32", "i32", "i32", "f32", "buffer", "i32", "buffer", "i32"],
    result: "void",
    optional: true,
  },
  cblas_sgeadd: {
    // OpenBLAS extension: order, rows, cols, alpha, A, lda, beta, C, ldc (C = alpha A + beta C)
    parameters: ["i32", "i32", "i32", "f32", "buffer", "i32", "f32", "buffer", "i32"],
    result: "void",
    optional: true,
  },
  cblas_saxpy: {
    // n, alpha, x, incx, y, incy (y += alpha x)
    parameters: ["i32", "f32", "buffer", "i32", "buffer", "i32"],
    result: "void",
    optional: true,
  },
  openblas_get_corename: { parameters: [], result: "pointer" },
  openblas_get_config: { parameters: [], result: "pointer" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

type OpenBlasLib = Deno.DynamicLibrary<typeof SYMBOLS>;

/** The raw FFI symbols of the loaded library (float32 ones are null when the build lacks them). */
export type OpenBlasSymbols = OpenBlasLib["symbols"];

/** The OpenBLAS backend plus what was loaded and how it is configured. */
export interface OpenBlasLinalg extends Linalg {
  readonly name: "openblas";
  /** The path or soname that was dlopen'ed. */
  readonly path: string;
  /** openblas_get_corename(): the kernel family in use, e.g. "SkylakeX" or "Prescott". */
  readonly coreName: string;
  /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64". */
  readonly config: string;
  /** Version parsed from the config string, or "unknown". */
  readonly version: string;
  /**
   * OPENBLAS_CORETYPE as it was when the library was loaded, and who chose it: "user" (already
   * in the environment), "detected" (set from /proc/cpuinfo by this module), "forced"
   * (INFOPLANE_OPENBLAS_CORETYPE=<name>), or "none" (left to OpenBLAS's own CPUID detection).
   */
  readonly coreType: { value: string | null; source: "user" | "detected" | "forced" | "none" };
  /** Current OpenBLAS thread count (process-wide). */
  threads(): number;
  /** Sets OpenBLAS's thread count for the whole process (all Workers share one library). */
  setThreads(n: number): void;
  /** One line for logs, e.g. "openblas 0.3.21 (SkylakeX, 2 threads)". */
  describe(): string;
  /**
   * The dlopen'ed symbols themselves, for other FFI users of the same library (lib/native's
   * float32 tfjs kernels) so that it is loaded, and its core type chosen, exactly once.
   */
  readonly symbols: OpenBlasSymbols;
}

/** Library locations tried in order after INFOPLANE_OPENBLAS. */
export function candidatePaths(): string[] {
  const env = processEnvGet("INFOPLANE_OPENBLAS");
  const out: string[] = env ? [env] : [];
  const arch = Deno.build.arch; // "x86_64" | "aarch64"
  if (Deno.build.os === "darwin") {
    out.push(
      "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
      "/usr/local/opt/openblas/lib/libopenblas.dylib",
      "/opt/local/lib/libopenblas.dylib",
      "libopenblas.dylib",
    );
  } else if (Deno.build.os === "windows") {
    out.push("libopenblas.dll", "openblas.dll");
  } else {
    const deb = `/usr/lib/${arch}-linux-gnu`;
    out.push(
      // Debian/Ubuntu: the alternatives symlink, then each flavour directly.
      `${deb}/libopenblas.so.0`,
      `${deb}/openblas-pthread/libopenblas.so.0`,
      `${deb}/openblas-openmp/libopenblas.so.0`,
      `${deb}/openblas-serial/libopenblas.so.0`,
      // Fedora/RHEL (pthreads flavour first), Arch/Alpine, source installs.
      "/usr/lib64/libopenblasp.so.0",
      "/usr/lib64/libopenblas.so.0",
      "/usr/lib/libopenblas.so.0",
      "/usr/local/lib/libopenblas.so.0",
      "/opt/OpenBLAS/lib/libopenblas.so.0",
      // Whatever the dynamic loader finds (LD_LIBRARY_PATH, ld.so.cache).
      "libopenblas.so.0",
      "libopenblas.so",
    );
  }
  return out;
}

/**
 * Puts OPENBLAS_CORETYPE into the environment before the first dlopen (OpenBLAS reads it once,
 * in its load-time constructor). A value the user already set always wins.
 * INFOPLANE_OPENBLAS_CORETYPE: unset/"detect" = choose from /proc/cpuinfo; "auto"/"off"/"none"
 * = leave OpenBLAS's own detection alone; any other value = that core name. Without
 * --allow-env the environment is read and written through libc (FFI is granted by then).
 */
function applyCoreType(): OpenBlasLinalg["coreType"] {
  const existing = processEnvGet("OPENBLAS_CORETYPE");
  if (existing) return { value: existing, source: "user" };
  const mode = (processEnvGet("INFOPLANE_OPENBLAS_CORETYPE") ?? "").trim();
  let value: string | null;
  let source: "detected" | "forced";
  if (mode === "" || mode.toLowerCase() === "detect") {
    value = openblasCoreTypeFor(cpuFlags());
    source = "detected";
  } else if (["auto", "off", "none"].includes(mode.toLowerCase())) {
    return { value: null, source: "none" };
  } else {
    value = mode;
    source = "forced";
  }
  if (!value || !processEnvSet("OPENBLAS_CORETYPE", value)) return { value: null, source: "none" };
  return { value, source };
}

/** Whether FFI may open `path` (never prompts). */
export function ffiGranted(path: string): boolean {
  try {
    // A path-less query covers plain --allow-ffi; a path query covers --allow-ffi=<path>.
    // querySync never prompts, so an interactive terminal does not hang here.
    if (Deno.permissions.querySync({ name: "ffi" }).state === "granted") return true;
    return Deno.permissions.querySync({ name: "ffi", path }).state === "granted";
  } catch {
    return false;
  }
}

function cString(p: Deno.PointerValue): string {
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

function makeBackend(
  lib: OpenBlasLib,
  path: string,
  coreType: OpenBlasLinalg["coreType"],
): OpenBlasLinalg {
  const s = lib.symbols;
  const config = cString(s.openblas_get_config());
  const coreName = cString(s.openblas_get_corename());
  const version = /OpenBLAS\s+([0-9][\w.]*)/i.exec(config)?.[1] ?? "unknown";
  // Scratch for Fortran by-reference scalars ('U' = our row-major lower triangle).
  const uplo = new Uint8Array([0x55]);
  const nBuf = new Int32Array(1);
  const info = new Int32Array(1);

  const threads = () => s.openblas_get_num_threads();
  return {
    name: "openblas",
    path,
    coreName,
    config,
    version,
    coreType,
    symbols: s,
    threads,
    setThreads(n: number): void {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`setThreads: bad thread count ${n}`);
      s.openblas_set_num_threads(n);
    },
    describe(): string {
      const n = threads();
      return `openblas ${version} (${coreName}, ${n} thread${n === 1 ? "" : "s"})`;
    },
    gram(a: Float64Array, m: number, d: number, out?: Float64Array): Float64Array {
      if (!Number.isInteger(m) || !Number.isInteger(d) || m < 0 || d < 0 || a.length < m * d) {
        throw new RangeError(
          `gram: need an m x d Float64Array (m=${m}, d=${d}, length=${a.length})`,
        );
      }
      const g = gramTarget(m, out);
      if (m === 0 || d === 0) return g.fill(0);
      // Row-major, lower triangle of G = A A^T; the other half is mirrored (syrk does half the
      // flops of dgemm and leaves the upper triangle untouched).
      s.cblas_dsyrk(CBLAS_ROW_MAJOR, CBLAS_LOWER, CBLAS_NO_TRANS, m, d, 1, a, d, 0, g, m);
      mirrorLowerToUpper(g, m);
      return g;
    },
    spdInverse(a: Float64Array, m: number): void {
      if (!Number.isInteger(m) || m < 0 || a.length < m * m) {
        throw new RangeError(`spdInverse: need an m x m Float64Array (m=${m}, length=${a.length})`);
      }
      if (m === 0) return;
      nBuf[0] = m;
      info[0] = 0;
      s.dpotrf_(uplo, nBuf, a, nBuf, info, 1n);
      if (info[0] > 0) {
        throw new Error(
          `spdInverse: matrix is not positive definite (dpotrf info=${info[0]}: leading minor ` +
            `of order ${info[0]} is not positive)`,
        );
      }
      if (info[0] < 0) throw new Error(`spdInverse: dpotrf rejected argument ${-info[0]}`);
      // OpenBLAS's potrf lets NaN through (its pivot test is `ajj <= 0`); LAPACK's does not.
      for (let i = 0; i < m; i++) {
        if (!(a[i * m + i] > 0)) {
          throw new Error(
            `spdInverse: matrix is not positive definite (non-finite Cholesky pivot at ${i + 1})`,
          );
        }
      }
      s.dpotri_(uplo, nBuf, a, nBuf, info, 1n);
      if (info[0] !== 0) {
        throw new Error(`spdInverse: dpotri failed (info=${info[0]}): matrix is singular`);
      }
      mirrorLowerToUpper(a, m);
    },
  };
}

let cached: OpenBlasLinalg | null | undefined;
let unavailableReason = "";

/**
 * Loads OpenBLAS once per isolate and returns the backend, or null (never throws) when no
 * library loads or FFI permission is not granted; {@link openblasUnavailableReason} says why.
 */
export function loadOpenBlas(): OpenBlasLinalg | null {
  if (cached !== undefined) return cached;
  cached = null;
  if (typeof Deno?.dlopen !== "function") {
    unavailableReason = "Deno.dlopen is not available";
    return null;
  }
  const errors: string[] = [];
  let coreType: OpenBlasLinalg["coreType"] | undefined;
  for (const path of candidatePaths()) {
    if (!ffiGranted(path)) continue;
    coreType ??= applyCoreType();
    let lib: OpenBlasLib;
    try {
      lib = Deno.dlopen(path, SYMBOLS);
    } catch (e) {
      errors.push(`${path}: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
      continue;
    }
    try {
      cached = makeBackend(lib, path, coreType);
      return cached;
    } catch (e) {
      lib.close();
      errors.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  unavailableReason = coreType === undefined
    ? "FFI permission not granted (run with --allow-ffi)"
    : `no loadable OpenBLAS with LAPACK (${errors.join("; ")})`;
  return null;
}

/** Why the last {@link loadOpenBlas} returned null ("" if it did not). */
export function openblasUnavailableReason(): string {
  return unavailableReason;
}
