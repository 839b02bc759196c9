/**
 * Plain-TypeScript dense kernels (no FFI): the fallback when OpenBLAS cannot be loaded.
 *
 * Everything is written in "dot-product form": every inner loop is a dot product of two
 * contiguous row segments of a row-major Float64Array, register-blocked 3 x 3 (9
 * accumulators, 6 loads per 9 multiply-adds). In V8 that shape measured fastest, ahead of
 * 4 x 2, 4 x 4 and of axpy-form (i-k-j) loops, which need a load and a store of the output per
 * multiply-add (docs/performance.md, "Figures behind code comments").
 *
 * The SPD inverse follows LAPACK's dpotrf + dpotri (A = L L^T, W = L^-1, A^-1 = W^T W), but
 * keeps the operand each phase needs row-contiguous by parking a transposed copy in the
 * otherwise unused upper triangle, so all three phases stay in dot-product form.
 *
 * @module
 */

import type { Linalg } from "./types.ts";

/** Register tile edge (rows of the left and right operand per kernel call). */
const T = 3;
/** K-block for gram: 3 + 3 rows of 256 doubles (12 KiB) stay in L1 while a tile runs. */
const KC = 256;
/** Block edge for the cache-blocked triangle mirror. */
const MB = 64;

/**
 * out[3r + c] = sum_{t < n} x[p_r + t] * x[q_c + t] for r, c in 0..2: nine dot products of
 * contiguous segments of `x`, sharing every load three ways.
 */
function dot3x3(
  x: Float64Array,
  p0: number,
  p1: number,
  p2: number,
  q0: number,
  q1: number,
  q2: number,
  n: number,
  out: Float64Array,
): void {
  let s00 = 0, s01 = 0, s02 = 0, s10 = 0, s11 = 0, s12 = 0, s20 = 0, s21 = 0, s22 = 0;
  for (let t = 0; t < n; t++) {
    const b0 = x[q0 + t], b1 = x[q1 + t], b2 = x[q2 + t];
    const a0 = x[p0 + t];
    s00 += a0 * b0;
    s01 += a0 * b1;
    s02 += a0 * b2;
    const a1 = x[p1 + t];
    s10 += a1 * b0;
    s11 += a1 * b1;
    s12 += a1 * b2;
    const a2 = x[p2 + t];
    s20 += a2 * b0;
    s21 += a2 * b1;
    s22 += a2 * b2;
  }
  out[0] = s00;
  out[1] = s01;
  out[2] = s02;
  out[3] = s10;
  out[4] = s11;
  out[5] = s12;
  out[6] = s20;
  out[7] = s21;
  out[8] = s22;
}

/**
 * Copies the strict lower triangle of row-major m x m `a` onto the upper one. Blocked so the
 * strided reads of a block stay in cache while its writes run along contiguous rows.
 */
export function mirrorLowerToUpper(a: Float64Array, m: number): void {
  for (let jb = 0; jb < m; jb += MB) {
    const je = Math.min(jb + MB, m);
    for (let ib = jb; ib < m; ib += MB) {
      const ie = Math.min(ib + MB, m);
      for (let j = jb; j < je; j++) {
        const rj = j * m;
        for (let i = Math.max(ib, j + 1); i < ie; i++) a[rj + i] = a[i * m + j];
      }
    }
  }
}

function checkSquare(a: Float64Array, m: number, what: string): void {
  if (!Number.isInteger(m) || m < 0 || a.length < m * m) {
    throw new RangeError(`${what}: need an m x m Float64Array (m=${m}, length=${a.length})`);
  }
}

/** The m x m destination of a Gram matrix: the front of `out` when given, else a new array. */
export function gramTarget(m: number, out?: Float64Array): Float64Array {
  if (!out) return new Float64Array(m * m);
  if (out.length < m * m) {
    throw new RangeError(`gram: out has ${out.length} entries, need ${m * m}`);
  }
  return out.length === m * m ? out : out.subarray(0, m * m);
}

/** G = A A^T for row-major m x d A; returns the full m x m matrix. */
export function gramPortable(
  a: Float64Array,
  m: number,
  d: number,
  out?: Float64Array,
): Float64Array {
  if (!Number.isInteger(m) || !Number.isInteger(d) || m < 0 || d < 0 || a.length < m * d) {
    throw new RangeError(`gram: need an m x d Float64Array (m=${m}, d=${d}, length=${a.length})`);
  }
  const g = gramTarget(m, out).fill(0);
  const s = new Float64Array(9);
  const last = m - 1;
  for (let k0 = 0; k0 < d; k0 += KC) {
    const n = Math.min(KC, d - k0);
    for (let i0 = 0; i0 < m; i0 += T) {
      const ib = Math.min(T, m - i0);
      // Short edge tiles repeat the last row; the duplicate results are simply not stored.
      const p0 = i0 * d + k0;
      const p1 = Math.min(i0 + 1, last) * d + k0;
      const p2 = Math.min(i0 + 2, last) * d + k0;
      // Lower triangle only (tiles with j0 <= i0); the diagonal tile is computed whole.
      for (let j0 = 0; j0 <= i0; j0 += T) {
        const jb = Math.min(T, m - j0);
        dot3x3(
          a,
          p0,
          p1,
          p2,
          j0 * d + k0,
          Math.min(j0 + 1, last) * d + k0,
          Math.min(j0 + 2, last) * d + k0,
          n,
          s,
        );
        for (let r = 0; r < ib; r++) {
          const row = (i0 + r) * m + j0;
          for (let c = 0; c < jb; c++) g[row + c] += s[r * T + c];
        }
      }
    }
  }
  mirrorLowerToUpper(g, m);
  return g;
}

/**
 * In-place Cholesky A = L L^T of the lower triangle of row-major `a` (the strict upper
 * triangle is neither read nor written). Left-looking by 3-row panels: each 3 x 3 block of L
 * is one dot3x3 over the columns left of it, then a short scalar fix-up inside the block.
 */
function cholesky(a: Float64Array, m: number): void {
  const s = new Float64Array(9);
  const last = m - 1;
  for (let i0 = 0; i0 < m; i0 += T) {
    const ib = Math.min(T, m - i0);
    const p0 = i0 * m, p1 = Math.min(i0 + 1, last) * m, p2 = Math.min(i0 + 2, last) * m;
    for (let j0 = 0; j0 <= i0; j0 += T) {
      const jb = Math.min(T, m - j0);
      const q0 = j0 * m, q1 = Math.min(j0 + 1, last) * m, q2 = Math.min(j0 + 2, last) * m;
      // Contributions of columns k < j0 (already final in both row panels).
      dot3x3(a, p0, p1, p2, q0, q1, q2, j0, s);
      for (let r = 0; r < ib; r++) {
        const i = i0 + r;
        const ri = i * m;
        const cEnd = j0 === i0 ? r + 1 : jb;
        for (let c = 0; c < cEnd; c++) {
          const j = j0 + c;
          const rj = j * m;
          let v = a[ri + j] - s[r * T + c];
          for (let k = j0; k < j; k++) v -= a[ri + k] * a[rj + k];
          if (i === j) {
            if (!(v > 0)) {
              throw new Error(
                `spdInverse: matrix is not positive definite (leading minor of order ${
                  j + 1
                } is not positive)`,
              );
            }
            a[ri + j] = Math.sqrt(v);
          } else {
            a[ri + j] = v / a[rj + j];
          }
        }
      }
    }
  }
}

/**
 * W = L^-1 in place. On entry the lower triangle holds L and the strict upper triangle holds
 * L^T (so that column j of L is the contiguous row j), `diag` holds L's diagonal. On exit the
 * lower triangle (with the diagonal) holds W; the strict upper triangle is unchanged.
 * Row i of W solves W[i][j] = -(sum_{k=j+1..i} W[i][k] L[k][j]) / L[j][j], j descending;
 * rows are independent, so 3 of them share every load of L^T.
 */
function invertLower(a: Float64Array, m: number, diag: Float64Array): void {
  const s = new Float64Array(9);
  const last = m - 1;
  for (let i0 = 0; i0 < m; i0 += T) {
    const ib = Math.min(T, m - i0);
    // Diagonal block: W[i][i] = 1 / L[i][i], then the in-block off-diagonals.
    for (let r = 0; r < ib; r++) {
      const i = i0 + r;
      const ri = i * m;
      a[ri + i] = 1 / diag[i];
      for (let j = i - 1; j >= i0; j--) {
        const rj = j * m;
        let v = 0;
        for (let k = j + 1; k <= i; k++) v += a[ri + k] * a[rj + k];
        a[ri + j] = -v / diag[j];
      }
    }
    const p0 = i0 * m, p1 = Math.min(i0 + 1, last) * m, p2 = Math.min(i0 + 2, last) * m;
    // Blocks left of the diagonal, right to left (each needs W[i][k] for k right of it).
    for (let j0 = i0 - T; j0 >= 0; j0 -= T) {
      const kb = j0 + T; // first column right of this block
      // Common part k in [kb, i0); the per-row tail k in [i0, i] is added below.
      dot3x3(
        a,
        p0 + kb,
        p1 + kb,
        p2 + kb,
        j0 * m + kb,
        (j0 + 1) * m + kb,
        (j0 + 2) * m + kb,
        i0 - kb,
        s,
      );
      for (let r = 0; r < ib; r++) {
        const i = i0 + r;
        const ri = i * m;
        for (let c = T - 1; c >= 0; c--) {
          const j = j0 + c;
          const rj = j * m;
          let v = s[r * T + c];
          for (let k = i0; k <= i; k++) v += a[ri + k] * a[rj + k];
          for (let k = j + 1; k < kb; k++) v += a[ri + k] * a[rj + k];
          a[ri + j] = -v / diag[j];
        }
      }
    }
    // A leftover block narrower than T at the left edge (when i0 is not a multiple of T it
    // cannot happen: i0 always is, so j0 reaches exactly 0).
  }
}

/**
 * R = V V^T for upper-triangular V = W^T held in the upper triangle (with the diagonal) of
 * `a`. Writes R's strict lower triangle into `a`'s strict lower triangle and R's diagonal to
 * `rdiag`; V is only read. R[q][p] = sum_{k >= q} V[p][k] V[q][k] for p <= q.
 */
function lauumUpper(a: Float64Array, m: number, rdiag: Float64Array): void {
  const s = new Float64Array(9);
  const last = m - 1;
  for (let q0 = 0; q0 < m; q0 += T) {
    const qb = Math.min(T, m - q0);
    const ke = q0 + qb; // the common range is k in [ke, m)
    const n = m - ke;
    const r0 = q0 * m + ke;
    const r1 = Math.min(q0 + 1, last) * m + ke;
    const r2 = Math.min(q0 + 2, last) * m + ke;
    for (let p0 = 0; p0 <= q0; p0 += T) {
      const pb = Math.min(T, m - p0);
      dot3x3(
        a,
        r0,
        r1,
        r2,
        p0 * m + ke,
        Math.min(p0 + 1, last) * m + ke,
        Math.min(p0 + 2, last) * m + ke,
        n,
        s,
      );
      for (let r = 0; r < qb; r++) {
        const q = q0 + r;
        const rq = q * m;
        const cEnd = p0 === q0 ? r + 1 : pb;
        for (let c = 0; c < cEnd; c++) {
          const p = p0 + c;
          const rp = p * m;
          let v = s[r * T + c];
          // Head k in [q, ke): V[q][k] is in the upper triangle only from k = q on.
          for (let k = q; k < ke; k++) v += a[rp + k] * a[rq + k];
          if (p === q) rdiag[q] = v;
          else a[rq + p] = v;
        }
      }
    }
  }
}

/**
 * Inverts a symmetric positive definite row-major m x m matrix in place (reads the lower
 * triangle, writes both). Throws if a Cholesky pivot is not positive (or is NaN).
 */
export function spdInversePortable(a: Float64Array, m: number): void {
  checkSquare(a, m, "spdInverse");
  if (m === 0) return;
  cholesky(a, m);
  const diag = new Float64Array(m);
  for (let i = 0; i < m; i++) diag[i] = a[i * m + i];
  mirrorLowerToUpper(a, m); // upper := L^T, so columns of L are rows
  invertLower(a, m, diag);
  mirrorLowerToUpper(a, m); // upper := W^T (the diagonal is shared)
  const rdiag = diag; // L's diagonal is no longer needed
  lauumUpper(a, m, rdiag);
  for (let i = 0; i < m; i++) a[i * m + i] = rdiag[i];
  mirrorLowerToUpper(a, m);
}

/** The plain-TypeScript backend: single-threaded, no permissions needed. */
export const portableLinalg: Linalg = {
  name: "portable",
  gram: gramPortable,
  spdInverse: spdInversePortable,
};
