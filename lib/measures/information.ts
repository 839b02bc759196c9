/**
 * Mutual-information estimates of the information-bottleneck literature, for comparison with
 * nHSIC: binning (Shwartz-Ziv & Tishby 2017) and the pairwise-distance KDE upper bound
 * (Kolchinsky & Tracey 2017, as used by Saxe et al. 2018). Both are in bits; exact definitions
 * in docs/metrics.md ("Mutual information").
 *
 * @module
 */
import type { Matrix } from "../dump/mod.ts";
import type { Linalg } from "../linalg/mod.ts";
import { portableLinalg } from "../linalg/mod.ts";
import { _binIndices, _binnedInformation, _kdeBounds, _rowSymbols } from "./_stats.ts";

/** Default number of equal-width bins per activation (Shwartz-Ziv & Tishby 2017 used 30). */
export const DEFAULT_BINS = 30;

/** Default variance of the Gaussian noise added to T for the KDE bound (Saxe et al.'s code). */
export const DEFAULT_NOISE_VARIANCE = 1e-3;

/** Estimates of I(X;T) and I(Y;T), in bits. */
export interface InformationPair {
  /** I(X;T). */
  x: number;
  /** I(Y;T). */
  y: number;
}

function check(x: Matrix | null, t: Matrix, labels: Int32Array): number {
  const n = t.rows;
  if (n < 1 || t.cols < 1 || t.data.length !== n * t.cols) {
    throw new RangeError(`T: ${t.rows}x${t.cols} needs ${t.rows * t.cols} values`);
  }
  if (labels.length !== n) {
    throw new RangeError(`labels: ${labels.length} entries for ${n} samples`);
  }
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0)) throw new RangeError(`label ${labels[i]} at row ${i} is negative`);
  }
  if (x) {
    if (x.rows !== n || x.data.length !== x.rows * x.cols) {
      throw new RangeError(`X: ${x.rows}x${x.cols} does not match T's ${n} samples`);
    }
  }
  return n;
}

function classCount(labels: Int32Array): number {
  let c = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] + 1 > c) c = labels[i] + 1;
  return c;
}

/** Smallest and largest value of a representation (for a shared binning range). */
export function valueRange(t: Matrix): [number, number] {
  let lo = Infinity, hi = -Infinity;
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * Mutual information by binning (Shwartz-Ziv & Tishby 2017, "Opening the black box of deep
 * neural networks via information", section 3): every activation is put in one of `bins`
 * equal-width bins over [lo, hi]; each sample's vector of bin indices is a discrete symbol T~;
 * then I(X;T) = H(X) + H(T~) - H(X,T~) (= H(T~) when the inputs are distinct, the usual case)
 * and I(Y;T) = H(Y) + H(T~) - H(Y,T~), with empirical entropies in bits. Bounded by log2 n.
 *
 * @example Usage
 * ```ts
 * import { miBinning } from "./mod.ts";
 * const x = { rows: 4, cols: 1, data: new Float64Array([0, 1, 2, 3]) };
 * const t = { rows: 4, cols: 1, data: new Float64Array([0, 0, 1, 1]) };
 * miBinning(x, t, new Int32Array([0, 0, 1, 1]), { bins: 2 }); // { x: 1, y: 1 }
 * ```
 *
 * @param x Inputs, n x d_X (only equality of rows matters).
 * @param t Representation, n x d.
 * @param labels Class index per sample.
 * @param opts `bins` (default 30) and the binning `range` (default: T's own min and max).
 * @returns I(X;T) and I(Y;T) in bits.
 */
export function miBinning(
  x: Matrix,
  t: Matrix,
  labels: Int32Array,
  opts: { bins?: number; range?: [number, number] } = {},
): InformationPair {
  const n = check(x, t, labels);
  const bins = opts.bins ?? DEFAULT_BINS;
  if (!Number.isSafeInteger(bins) || bins < 1) {
    throw new RangeError(`bins must be a positive integer, got ${bins}`);
  }
  const [lo, hi] = opts.range ?? valueRange(t);
  const binned = _binIndices(t.data, n * t.cols, lo, hi, bins);
  const xs = _rowSymbols(x.data, n, x.cols);
  return _binnedInformation(binned, n, t.cols, xs, labels, classCount(labels));
}

/**
 * The pairwise-distance upper bound on mutual information of Kolchinsky & Tracey (2017,
 * "Estimating mixture entropy with pairwise distances", KL bound), as Saxe et al. (2018, "On the
 * information bottleneck theory of deep learning") apply it: T is observed through Gaussian
 * noise N(0, s2 I), so H(T + noise) is the entropy of a mixture of Gaussians centred on the
 * samples. With D_ij the squared distances between samples, in nats before conversion to bits,
 *   I(X;T) <= -mean_i log mean_j exp(-D_ij / (2 s2)),
 *   I(Y;T) <= that - sum_c p_c (-mean_{i in c} log mean_{j in c} exp(-D_ij / (2 s2))).
 * Bounded by log2 n; smaller noise variances push it towards that bound.
 *
 * @example Usage
 * ```ts
 * import { miKde } from "./mod.ts";
 * const t = { rows: 4, cols: 1, data: new Float64Array([0, 0, 10, 10]) };
 * miKde(t, new Int32Array([0, 0, 1, 1]), { noise_variance: 1e-3 }); // about { x: 1, y: 1 }
 * ```
 *
 * @param t Representation, n x d.
 * @param labels Class index per sample.
 * @param opts `noise_variance` s2 (default 1e-3).
 * @param linalg Backend for the Gram matrix.
 * @returns Upper bounds on I(X;T) and I(Y;T) in bits.
 */
export function miKde(
  t: Matrix,
  labels: Int32Array,
  opts: { noise_variance?: number } = {},
  linalg: Linalg = portableLinalg,
): InformationPair {
  const n = check(null, t, labels);
  const s2 = opts.noise_variance ?? DEFAULT_NOISE_VARIANCE;
  if (!(s2 > 0) || !Number.isFinite(s2)) {
    throw new RangeError(`noise_variance must be a positive number, got ${s2}`);
  }
  const f = t.data instanceof Float64Array ? t.data : Float64Array.from(t.data);
  const g = linalg.gram(f, n, t.cols);
  const b = _kdeBounds(g, n, labels, classCount(labels), s2);
  return { x: b.x / Math.LN2, y: b.y / Math.LN2 };
}
