/**
 * The normalised cross-covariance operator of a kernel matrix,
 *
 *   R = K_c (K_c + delta I)^-1,   delta = eps * m,
 *
 * with K_c = K H ("right"), H K H ("both") or K ("none"). R is formed through the identity
 * R = I - delta (K_c + delta I)^-1, and the inverse always comes from a symmetric positive
 * definite matrix so that a Cholesky-based inverse (m^3 flops, half of LU's) suffices:
 * - "none" and "both": K_c + delta I is itself SPD;
 * - "right": K H + delta I = S - (K 1 / m) 1^T with S = K + delta I, a rank-one update that
 *   Sherman-Morrison folds in. With w = S^-1 1 this gives
 *     R = I - delta S^-1 - (1 - delta w) w^T / (1^T w).
 */
import type { Linalg } from "../linalg/mod.ts";
import type { Centring } from "./config.ts";
import { centreBoth } from "./kernels.ts";

/**
 * NOCCO operator of a symmetric PSD kernel matrix. `k` is overwritten and returned as R
 * (row-major m x m; R is not symmetric for right centring).
 */
export function noccoFromKernel(
  k: Float64Array,
  m: number,
  eps: number,
  centring: Centring,
  la: Linalg,
): Float64Array {
  const delta = eps * m;
  if (centring === "both") centreBoth(k, m);
  for (let i = 0; i < m; i++) k[i * m + i] += delta;
  la.spdInverse(k, m);
  const sinv = k;
  if (centring !== "right") {
    for (let i = 0; i < sinv.length; i++) sinv[i] *= -delta;
    for (let i = 0; i < m; i++) sinv[i * m + i] += 1;
    return sinv;
  }
  const w = new Float64Array(m);
  let sumW = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    const row = i * m;
    for (let j = 0; j < m; j++) s += sinv[row + j];
    w[i] = s;
    sumW += s;
  }
  const wn = new Float64Array(m);
  for (let j = 0; j < m; j++) wn[j] = w[j] / sumW;
  for (let i = 0; i < m; i++) {
    const row = i * m, a = 1 - delta * w[i];
    for (let j = 0; j < m; j++) sinv[row + j] = -delta * sinv[row + j] - a * wn[j];
    sinv[row + i] += 1;
  }
  return sinv;
}

/**
 * NOCCO operator of a linear kernel K = F F^T given its features F (row-major m x p), in
 * O(m^2 p + p^3) instead of O(m^3). With G = H F (or F when uncentred) the push-through identity
 * gives R = F (G^T F + delta I)^-1 G^T for right centring, and the same with F replaced by H F
 * for two-sided centring; G^T F = F^T H F is SPD, so the small inverse is a Cholesky one.
 * Worth it when p < m (one-hot labels: p = number of classes). Returns R (m x m).
 */
export function noccoFromFeatures(
  f: Float64Array,
  m: number,
  p: number,
  eps: number,
  centring: Centring,
  la: Linalg,
): Float64Array {
  const delta = eps * m;
  const g = centring === "none" ? f : centreColumns(f, m, p);
  const left = centring === "both" ? g : f;
  // M = (G^T G + delta I)^-1, p x p: G^T F = G^T G because H is idempotent.
  const mat = new Float64Array(p * p);
  for (let r = 0; r < m; r++) {
    const row = r * p;
    for (let a = 0; a < p; a++) {
      const ga = g[row + a];
      if (ga === 0) continue;
      for (let b = 0; b < p; b++) mat[a * p + b] += ga * g[row + b];
    }
  }
  for (let a = 0; a < p; a++) mat[a * p + a] += delta;
  la.spdInverse(mat, p);
  // B = left M (m x p), then R = B G^T.
  const bmat = new Float64Array(m * p);
  for (let r = 0; r < m; r++) {
    for (let a = 0; a < p; a++) {
      const la_ = left[r * p + a];
      if (la_ === 0) continue;
      for (let b = 0; b < p; b++) bmat[r * p + b] += la_ * mat[a * p + b];
    }
  }
  // R = B G^T, accumulated row by row over G^T (p x m) so the inner loop runs along a row.
  const gt = new Float64Array(p * m);
  for (let j = 0; j < m; j++) for (let a = 0; a < p; a++) gt[a * m + j] = g[j * p + a];
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const row = i * m;
    for (let a = 0; a < p; a++) {
      const b = bmat[i * p + a];
      if (b === 0) continue;
      const ga = a * m;
      for (let j = 0; j < m; j++) out[row + j] += b * gt[ga + j];
    }
  }
  return out;
}

/** Column-centred copy of a row-major m x p matrix (H F). */
export function centreColumns(f: Float64Array, m: number, p: number): Float64Array {
  const mean = new Float64Array(p);
  for (let r = 0; r < m; r++) for (let a = 0; a < p; a++) mean[a] += f[r * p + a];
  for (let a = 0; a < p; a++) mean[a] /= m;
  const out = new Float64Array(m * p);
  for (let r = 0; r < m; r++) for (let a = 0; a < p; a++) out[r * p + a] = f[r * p + a] - mean[a];
  return out;
}

/** Tr(A B) for row-major m x m matrices: sum_ij A_ij B_ji, in O(m^2), tiled so B's column walk stays in cache. */
export function traceOfProduct(a: Float64Array, b: Float64Array, m: number): number {
  const T = 64;
  let s = 0;
  for (let i0 = 0; i0 < m; i0 += T) {
    const i1 = Math.min(i0 + T, m);
    for (let j0 = 0; j0 < m; j0 += T) {
      const j1 = Math.min(j0 + T, m);
      for (let i = i0; i < i1; i++) {
        const row = i * m;
        for (let j = j0; j < j1; j++) s += a[row + j] * b[j * m + i];
      }
    }
  }
  return s;
}
