/**
 * float32 BLAS for the "native" tfjs backend, through the OpenBLAS library that lib/linalg loads
 * (same search path, INFOPLANE_OPENBLAS and OPENBLAS_CORETYPE handling; loaded once per isolate).
 *
 * Everything is row-major. Offsets into a buffer are passed as `subarray` views: Deno hands the
 * view's own data pointer to C, so no copy is made.
 *
 * @module
 */

import { loadOpenBlas, type OpenBlasLinalg, openblasUnavailableReason } from "../linalg/mod.ts";

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/** The float32 BLAS subset the backend uses. */
export interface Sblas {
  /** The OpenBLAS instance (describe(), threads, core type). */
  readonly openblas: OpenBlasLinalg;
  /**
   * C (m x n, leading dimension ldc) = alpha op(A) op(B) + beta C, op = transpose when the flag
   * is set. A is m x k (k x m when transposed), B is k x n (n x k when transposed).
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /** B (cols x rows) = A^T for a rows x cols matrix A (OpenBLAS's blocked somatcopy). */
  transpose(rows: number, cols: number, a: Float32Array, b: Float32Array): void;
  /** Strided 2-D copy: B[i, j] = A[i, j] for rows x cols, row pitches lda and ldb. */
  copy2d(
    rows: number,
    cols: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
  ): void;
  /** Strided 2-D accumulate: C[i, j] += A[i, j] for rows x cols, row pitches lda and ldc. */
  add2d(
    rows: number,
    cols: number,
    a: Float32Array,
    lda: number,
    c: Float32Array,
    ldc: number,
  ): void;
  /** y += alpha x (n elements). */
  axpy(n: number, alpha: number, x: Float32Array, y: Float32Array): void;
}

let cached: Sblas | null | undefined;
let reason = "";

/**
 * Loads OpenBLAS (through lib/linalg) and returns the float32 routines, or null when it is not
 * available ({@link sblasUnavailableReason} says why). Never throws.
 */
export function loadSblas(): Sblas | null {
  if (cached !== undefined) return cached;
  cached = null;
  const ob = loadOpenBlas();
  if (!ob) {
    reason = openblasUnavailableReason();
    return null;
  }
  const s = ob.symbols;
  const gemm = s.cblas_sgemm, omat = s.cblas_somatcopy, axpy = s.cblas_saxpy;
  const geadd = s.cblas_sgeadd;
  if (!gemm || !omat || !axpy || !geadd) {
    const missing = {
      cblas_sgemm: gemm,
      cblas_somatcopy: omat,
      cblas_saxpy: axpy,
      cblas_sgeadd: geadd,
    };
    reason = `${ob.path} lacks ${
      Object.entries(missing).filter(([, f]) => !f).map(([n]) => n).join(", ")
    }`;
    return null;
  }
  cached = {
    openblas: ob,
    sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
      gemm(
        ROW_MAJOR,
        transA ? TRANS : NO_TRANS,
        transB ? TRANS : NO_TRANS,
        m,
        n,
        k,
        alpha,
        a,
        Math.max(1, lda),
        b,
        Math.max(1, ldb),
        beta,
        c,
        Math.max(1, ldc),
      );
    },
    transpose(rows, cols, a, b) {
      if (rows === 0 || cols === 0) return;
      omat(ROW_MAJOR, TRANS, rows, cols, 1, a, cols, b, rows);
    },
    copy2d(rows, cols, a, lda, b, ldb) {
      if (rows > 0 && cols > 0) omat(ROW_MAJOR, NO_TRANS, rows, cols, 1, a, lda, b, ldb);
    },
    add2d(rows, cols, a, lda, c, ldc) {
      if (rows > 0 && cols > 0) geadd(ROW_MAJOR, rows, cols, 1, a, lda, 1, c, ldc);
    },
    axpy(n, alpha, x, y) {
      if (n > 0) axpy(n, alpha, x, 1, y, 1);
    },
  };
  return cached;
}

/** Why the last {@link loadSblas} returned null ("" if it did not). */
export function sblasUnavailableReason(): string {
  return reason;
}
