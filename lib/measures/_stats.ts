/**
 * Private helpers of lib/measures: O(n^2) statistics of symmetric kernel matrices, shared by the
 * pure measure functions and by the per-dump engine (which feeds them the Gram matrices and
 * kernels the nHSIC estimator computes anyway). Not part of the public face.
 *
 * @module
 */
import { centreBoth } from "../nhsic/mod.ts";

/** sum_i a_i b_i over the first `len` entries. */
export function _dot(a: Float64Array, b: Float64Array, len = a.length): number {
  let s = 0;
  for (let i = 0; i < len; i++) s += a[i] * b[i];
  return s;
}

/** num / den, or 0 when the denominator is not a positive finite number. */
export function _safeRatio(num: number, den: number): number {
  return den > 0 && Number.isFinite(den) ? num / den : 0;
}

/** A centred copy H K H of a symmetric n x n kernel and its squared Frobenius norm. */
export interface _Centred {
  kind: "centred";
  n: number;
  /** H K H, row-major n x n. */
  kc: Float64Array;
  /** ||H K H||_F^2 = HSIC_b(K, K) (m-1)^2. */
  self: number;
}

/** Centres a copy of `k` (its first n*n entries) on both sides. */
export function _centred(k: Float64Array, n: number): _Centred {
  const kc = k.slice(0, n * n);
  centreBoth(kc, n);
  return { kind: "centred", n, kc, self: _dot(kc, kc) };
}

/**
 * ||H K H||_F^2 of a symmetric kernel without forming H K H:
 * ||K||^2 - (2/n) sum_i r_i^2 + S^2 / n^2, with r_i the row sums and S their total.
 */
export function _centredSelfNorm(k: Float64Array, n: number): number {
  let sq = 0, rm2 = 0, total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let rs = 0;
    for (let j = 0; j < n; j++) {
      const v = k[row + j];
      rs += v;
      sq += v * v;
    }
    rm2 += rs * rs;
    total += rs;
  }
  return sq - (2 / n) * rm2 + (total * total) / (n * n);
}

/**
 * <H Y Y^T H, K>_F for one-hot labels and a symmetric kernel K, from within-class block sums:
 * sum_c [B_c - 2 mu_c S_c + mu_c^2 S] (B_c the sum of K over class c x class c, S_c the sum of
 * K's rows of class c, S the total, mu_c = n_c / n).
 */
export function _labelAlignment(k: Float64Array, n: number, labels: Int32Array, c: number): number {
  const block = new Float64Array(c), classRows = new Float64Array(c), count = new Float64Array(c);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n, li = labels[i];
    let rs = 0, within = 0;
    for (let j = 0; j < n; j++) {
      const v = k[row + j];
      rs += v;
      if (labels[j] === li) within += v;
    }
    block[li] += within;
    classRows[li] += rs;
    count[li]++;
    total += rs;
  }
  let s = 0;
  for (let a = 0; a < c; a++) {
    const mu = count[a] / n;
    s += block[a] - 2 * mu * classRows[a] + mu * mu * total;
  }
  return s;
}

/**
 * What the unbiased HSIC estimator of Song et al. (2012) needs of one kernel: K~ (K with a zero
 * diagonal), its row sums and their total, and HSIC_u(K, K).
 */
export interface _Debiased {
  kind: "debiased";
  n: number;
  /** K~, row-major n x n (zero diagonal). */
  kt: Float64Array;
  rows: Float64Array;
  total: number;
  /** HSIC_u(K, K). */
  self: number;
}

/** Debiased statistics of a copy of the symmetric kernel `k` (n >= 4). */
export function _debiased(k: Float64Array, n: number): _Debiased {
  const kt = k.slice(0, n * n);
  for (let i = 0; i < n; i++) kt[i * n + i] = 0;
  const rows = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) s += kt[row + j];
    rows[i] = s;
    total += s;
  }
  const part = { kt, rows, total };
  return { kind: "debiased", n, ...part, self: _hsicUnbiasedParts(part, part, n) };
}

/**
 * HSIC_u(K, L) = [Tr(K~L~) + (1'K~1)(1'L~1)/((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3)),
 * with Tr(K~L~) = <K~, L~>_F and 1'K~L~1 = (K~1).(L~1) for symmetric kernels.
 */
export function _hsicUnbiasedParts(
  a: { kt: Float64Array; rows: Float64Array; total: number },
  b: { kt: Float64Array; rows: Float64Array; total: number },
  n: number,
): number {
  const tr = _dot(a.kt, b.kt, n * n);
  const cross = _dot(a.rows, b.rows, n);
  return (tr + (a.total * b.total) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * cross) / (n * (n - 3));
}

/**
 * Debiased statistics of the one-hot label kernel Y Y^T without forming it: L~_ij = [same
 * class, i != j], row sums n_c(i) - 1, total sum_c n_c (n_c - 1), <L~, L~> = total.
 */
export function _labelDebiased(labels: Int32Array, c: number): {
  rows: Float64Array;
  total: number;
  self: number;
} {
  const n = labels.length;
  const count = new Float64Array(c);
  for (let i = 0; i < n; i++) count[labels[i]]++;
  const rows = new Float64Array(n);
  for (let i = 0; i < n; i++) rows[i] = count[labels[i]] - 1;
  let total = 0;
  for (let a = 0; a < c; a++) total += count[a] * (count[a] - 1);
  const cross = _dot(rows, rows, n);
  const self = (total + (total * total) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * cross) /
    (n * (n - 3));
  return { rows, total, self };
}

/**
 * HSIC_u(K, Y Y^T) from the debiased statistics of K and of the labels: <K~, L~> is the sum of
 * K over pairs i != j of the same class.
 */
export function _hsicUnbiasedWithLabels(
  k: _Debiased,
  lab: { rows: Float64Array; total: number },
  labels: Int32Array,
): number {
  const n = k.n;
  let tr = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n, li = labels[i];
    for (let j = 0; j < n; j++) if (labels[j] === li) tr += k.kt[row + j];
  }
  const cross = _dot(k.rows, lab.rows, n);
  return (tr + (k.total * lab.total) / ((n - 1) * (n - 2)) - (2 / (n - 2)) * cross) /
    (n * (n - 3));
}

/** Debiased CKA from two unbiased HSIC self-values and their cross value (0 if undefined). */
export function _debiasedCka(cross: number, selfA: number, selfB: number): number {
  const den = selfA * selfB;
  return den > 0 && Number.isFinite(den) ? cross / Math.sqrt(den) : 0;
}

/**
 * The pairwise-distance (KL) upper bound of Kolchinsky & Tracey (2017) on I(X;T) and I(Y;T) for
 * T + N(0, s2 I), from the linear Gram matrix G of T, in nats:
 *   I(X;T) <= log n - mean_i log sum_j exp(-D_ij / (2 s2)),
 *   I(Y;T) <= that - sum_c p_c [log n_c - mean_{i in c} log sum_{j in c} exp(-D_ij / (2 s2))],
 * with D_ij = G_ii + G_jj - 2 G_ij (clamped at 0). The diagonal term exp(0) = 1 keeps every sum
 * at least 1, so the logs need no max-shift.
 */
export function _kdeBounds(
  g: Float64Array,
  n: number,
  labels: Int32Array,
  c: number,
  noiseVariance: number,
): { x: number; y: number } {
  const k = -1 / (2 * noiseVariance);
  const diag = new Float64Array(n);
  for (let i = 0; i < n; i++) diag[i] = g[i * n + i];
  const count = new Float64Array(c);
  for (let i = 0; i < n; i++) count[labels[i]]++;
  // Per row: log of the sum over all j, and of the sum over j of the same class.
  const classLse = new Float64Array(c);
  let allLse = 0;
  for (let i = 0; i < n; i++) {
    const row = i * n, gi = diag[i], li = labels[i];
    let all = 0, within = 0;
    for (let j = 0; j < n; j++) {
      let d = gi + diag[j] - 2 * g[row + j];
      if (d < 0 || j === i) d = 0;
      const e = Math.exp(k * d);
      all += e;
      if (labels[j] === li) within += e;
    }
    allLse += Math.log(all);
    classLse[li] += Math.log(within);
  }
  const hx = Math.log(n) - allLse / n;
  let cond = 0;
  for (let a = 0; a < c; a++) {
    if (count[a] === 0) continue;
    cond += (count[a] / n) * (Math.log(count[a]) - classLse[a] / count[a]);
  }
  return { x: hx, y: hx - cond };
}

/**
 * Symbol ids of the rows of an n x d matrix: equal rows (exactly equal values) share an id.
 * Ids are dense, 0..k-1, in order of first appearance after sorting (their values carry no
 * meaning beyond equality).
 */
export function _rowSymbols(
  rows: ArrayLike<number>,
  n: number,
  d: number,
): { ids: Int32Array; count: number } {
  const order = Array.from({ length: n }, (_, i) => i);
  const cmp = (a: number, b: number) => {
    const oa = a * d, ob = b * d;
    for (let k = 0; k < d; k++) {
      const va = rows[oa + k], vb = rows[ob + k];
      if (va !== vb) return va < vb ? -1 : 1;
    }
    return 0;
  };
  order.sort(cmp);
  const ids = new Int32Array(n);
  let next = 0;
  for (let r = 0; r < n; r++) {
    if (r > 0 && cmp(order[r - 1], order[r]) !== 0) next++;
    ids[order[r]] = next;
  }
  return { ids, count: n === 0 ? 0 : next + 1 };
}

/** Entropy in bits of the empirical distribution of symbol ids. */
export function _entropyBits(ids: Int32Array, count: number): number {
  const n = ids.length;
  const freq = new Float64Array(count);
  for (let i = 0; i < n; i++) freq[ids[i]]++;
  let h = 0;
  for (let k = 0; k < count; k++) {
    if (freq[k] > 0) {
      const p = freq[k] / n;
      h -= p * Math.log2(p);
    }
  }
  return h;
}

/** Symbol ids of the pairs (a_i, b_i). */
export function _jointSymbols(
  a: Int32Array,
  b: Int32Array,
  countB: number,
): { ids: Int32Array; count: number } {
  const n = a.length;
  const map = new Map<number, number>();
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const key = a[i] * countB + b[i];
    let id = map.get(key);
    if (id === undefined) map.set(key, id = map.size);
    ids[i] = id;
  }
  return { ids, count: map.size };
}

/**
 * Bin indices of every value (n x d): floor((v - lo) / w) with w = (hi - lo) / bins, the top
 * edge folded into the last bin and values outside [lo, hi] clamped; one bin when hi = lo.
 */
export function _binIndices(
  f: ArrayLike<number>,
  len: number,
  lo: number,
  hi: number,
  bins: number,
): Int32Array {
  const out = new Int32Array(len);
  const w = (hi - lo) / bins;
  if (!(w > 0)) return out;
  for (let i = 0; i < len; i++) {
    let b = Math.floor((f[i] - lo) / w);
    if (b >= bins) b = bins - 1;
    else if (b < 0) b = 0;
    out[i] = b;
  }
  return out;
}

/**
 * Binned mutual information in bits: I(X;T) = H(X) + H(T) - H(X,T) and I(Y;T) = H(Y) + H(T) -
 * H(Y,T), with T's symbols the rows of bin indices, X's the distinct input rows and Y's the
 * labels.
 */
export function _binnedInformation(
  tBins: Int32Array,
  n: number,
  d: number,
  xSym: { ids: Int32Array; count: number },
  labels: Int32Array,
  c: number,
): { x: number; y: number } {
  const t = _rowSymbols(tBins, n, d);
  const ht = _entropyBits(t.ids, t.count);
  const hx = _entropyBits(xSym.ids, xSym.count);
  const hxt = _entropyBits(..._pair(_jointSymbols(xSym.ids, t.ids, t.count)));
  const y = { ids: labels, count: c };
  const hy = _entropyBits(y.ids, y.count);
  const hyt = _entropyBits(..._pair(_jointSymbols(labels, t.ids, t.count)));
  return { x: hx + ht - hxt, y: hy + ht - hyt };
}

function _pair(s: { ids: Int32Array; count: number }): [Int32Array, number] {
  return [s.ids, s.count];
}
