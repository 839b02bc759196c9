/** Unnormalised dependence measures kept beside nHSIC: biased HSIC and CKA. */
import { centreBoth } from "./kernels.ts";

/** Biased HSIC, (m-1)^-2 Tr(K H L H), for symmetric m x m kernels. Does not modify its inputs. */
export function biasedHsic(k: Float64Array, l: Float64Array, m: number): number {
  const kc = k.slice();
  centreBoth(kc, m);
  // Tr(HKH L) = <HKH, L>_F for symmetric L.
  let s = 0;
  for (let i = 0; i < kc.length; i++) s += kc[i] * l[i];
  return s / ((m - 1) * (m - 1));
}

/**
 * Centred kernel alignment, HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)); with linear kernels this is
 * linear CKA, with Gaussian kernels Gaussian CKA. Does not modify its inputs.
 */
export function cka(k: Float64Array, l: Float64Array, m: number): number {
  const kc = k.slice(), lc = l.slice();
  centreBoth(kc, m);
  centreBoth(lc, m);
  let kl = 0, kk = 0, ll = 0;
  for (let i = 0; i < kc.length; i++) {
    kl += kc[i] * lc[i];
    kk += kc[i] * kc[i];
    ll += lc[i] * lc[i];
  }
  return kl / Math.sqrt(kk * ll);
}

/**
 * Statistics of an uncentred symmetric matrix G that let linear CKA against it be formed without
 * a centred copy: the row means, the grand mean and <HGH, HGH>_F = <HGH, G>_F.
 */
export interface CentredStats {
  rowMean: Float64Array;
  mean: number;
  /** ||H G H||_F^2. */
  selfAlignment: number;
}

/** Computes {@link CentredStats} of a symmetric m x m matrix in O(m^2) without copying it. */
export function centredStats(g: Float64Array, m: number): CentredStats {
  const rowMean = new Float64Array(m);
  let total = 0, sq = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    const row = i * m;
    for (let j = 0; j < m; j++) {
      const v = g[row + j];
      s += v;
      sq += v * v;
    }
    rowMean[i] = s / m;
    total += s;
  }
  const mean = total / (m * m);
  let rm2 = 0;
  for (let i = 0; i < m; i++) rm2 += rowMean[i] * rowMean[i];
  // <HGH, G> = ||G||^2 - 2 m sum_i rbar_i^2 + m^2 gbar^2 for symmetric G.
  return { rowMean, mean, selfAlignment: sq - 2 * m * rm2 + m * m * mean * mean };
}

/** <H A H, B>_F for symmetric m x m A (given its stats) and B, in O(m^2) without copies. */
export function centredAlignment(
  a: Float64Array,
  aStats: CentredStats,
  b: Float64Array,
  m: number,
): number {
  const { rowMean, mean } = aStats;
  let s = 0;
  for (let i = 0; i < m; i++) {
    const row = i * m, ri = rowMean[i] - mean;
    for (let j = 0; j < m; j++) s += (a[row + j] - ri - rowMean[j]) * b[row + j];
  }
  return s;
}
