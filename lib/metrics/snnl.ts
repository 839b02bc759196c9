/**
 * The soft nearest-neighbour loss (SNNL) of Frosst, Papernot & Hinton, "Analyzing and Improving
 * Representations with the Soft Nearest Neighbor Loss" (ICML 2019): how entangled the classes of
 * a representation are. For a batch of b points x_i with labels y_i and a temperature T,
 *
 *   SNNL(x, y, T) = -1/b sum_i log( sum_{j != i, y_j = y_i} exp(-|x_i - x_j|^2 / T)
 *                                   / sum_{k != i} exp(-|x_i - x_k|^2 / T) )
 *
 * Low values: every point's soft neighbours share its class (classes disentangled); high values:
 * neighbours come from other classes (entangled). Following the paper, a representation's SNNL
 * is taken at the temperature that minimises it; here over a fixed grid of temperatures relative
 * to the batch's median squared distance (docs/experiments.md, "Entanglement").
 *
 * As in the authors' reference implementation, 1e-5 is added inside the logarithm so that a
 * point without a same-class neighbour in its batch costs -log(1e-5) instead of infinity. The
 * ratio itself is computed with log-sum-exp in float64, so small temperatures do not underflow.
 *
 * @module
 */
import { getLinalg } from "../linalg/mod.ts";
import type { Linalg } from "../linalg/mod.ts";

/** Constant inside the logarithm (the reference implementation's STABILITY_EPS). */
export const SNNL_STABILITY_EPS = 1e-5;

/**
 * Temperature grid, as multiples of the batch's median off-diagonal squared distance: 2^k for
 * k = -6..4. The minimum lies inside it for the representations seen here (at T -> infinity
 * the loss tends to -log(fraction of same-class points), at T -> 0 to the nearest-neighbour
 * error rate times -log(eps)).
 */
export const SNNL_TEMPERATURE_GRID: readonly number[] = Object.freeze(
  Array.from({ length: 11 }, (_, i) => 2 ** (i - 6)),
);

/** Squared Euclidean distances (m x m, row-major, zero diagonal) of the rows of `a` (m x d). */
export function squaredDistances(
  a: Float64Array,
  m: number,
  d: number,
  linalg: Linalg = getLinalg(),
): Float64Array {
  const g = linalg.gram(a, m, d);
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      // Clamped at 0 against rounding; the diagonal is exactly 0.
      out[i * m + j] = i === j ? 0 : Math.max(0, g[i * m + i] + g[j * m + j] - 2 * g[i * m + j]);
    }
  }
  return out;
}

/**
 * SNNL of one batch from its squared distances `dist` (m x m) and labels, at temperature `t`
 * (in the units of `dist`). `eps` is the constant inside the logarithm.
 */
export function snnlFromDistances(
  dist: Float64Array,
  labels: ArrayLike<number>,
  m: number,
  t: number,
  eps = SNNL_STABILITY_EPS,
): number {
  if (!(t > 0)) throw new RangeError(`SNNL temperature must be positive, got ${t}`);
  let total = 0;
  for (let i = 0; i < m; i++) {
    // log-sum-exp over k != i (all) and over j != i with y_j = y_i (same), shifted by the
    // largest exponent of "all" (the nearest neighbour), which bounds both sums.
    let top = -Infinity;
    for (let k = 0; k < m; k++) if (k !== i) top = Math.max(top, -dist[i * m + k] / t);
    let all = 0, same = 0;
    for (let k = 0; k < m; k++) {
      if (k === i) continue;
      const e = Math.exp(-dist[i * m + k] / t - top);
      all += e;
      if (labels[k] === labels[i]) same += e;
    }
    const ratio = all > 0 ? same / all : 0;
    total += -Math.log(eps + ratio);
  }
  return total / m;
}

/** Median of the off-diagonal entries of a symmetric m x m matrix (upper triangle). */
export function medianOffDiagonal(a: Float64Array, m: number): number {
  const v: number[] = [];
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) v.push(a[i * m + j]);
  if (v.length === 0) return 0;
  v.sort((x, y) => x - y);
  const h = v.length >> 1;
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/** Options of {@link snnl}. */
export interface SnnlOptions {
  /** Samples per batch; the result is the mean over consecutive batches (default: all at once). */
  batchSize?: number | null;
  /** Temperature multipliers (of each batch's median squared distance). */
  grid?: readonly number[];
  eps?: number;
  linalg?: Linalg;
}

/** What {@link snnl} returns. */
export interface SnnlResult {
  /** The minimum over the grid of the batch-averaged SNNL. */
  snnl: number;
  /** The grid multiplier that attains it. */
  temperature_factor: number;
  /** Mean over batches of the absolute temperature used (factor x median squared distance). */
  temperature: number;
  /** SNNL at every grid multiplier (same order as the grid). */
  curve: number[];
  batches: number;
  samples_used: number;
}

/**
 * SNNL of a representation (rows x cols, row-major) with class `labels`, at the grid temperature
 * that minimises it (one temperature factor per representation, shared by its batches). Batches
 * with fewer than 4 samples at the end are dropped, as in the nHSIC estimator.
 */
export function snnl(
  values: Float32Array | Float64Array,
  rows: number,
  cols: number,
  labels: ArrayLike<number>,
  opts: SnnlOptions = {},
): SnnlResult {
  const grid = opts.grid ?? SNNL_TEMPERATURE_GRID;
  const linalg = opts.linalg ?? getLinalg();
  const bs = opts.batchSize ?? rows;
  const ranges: Array<[number, number]> = [];
  for (let s = 0; s < rows; s += bs) {
    const e = Math.min(rows, s + bs);
    if (e - s >= 4 || (s === 0 && e - s >= 2)) ranges.push([s, e]);
  }
  if (ranges.length === 0) throw new RangeError(`SNNL needs at least 2 samples, got ${rows}`);
  const curve = new Array<number>(grid.length).fill(0);
  let tempSum = new Array<number>(grid.length).fill(0);
  let used = 0;
  for (const [s, e] of ranges) {
    const m = e - s;
    const a = new Float64Array(m * cols);
    for (let i = 0; i < a.length; i++) a[i] = values[s * cols + i];
    const dist = squaredDistances(a, m, cols, linalg);
    // A batch of identical points has no scale: fall back to 1 (every ratio is then uniform).
    const med = medianOffDiagonal(dist, m) || 1;
    const lab = Array.from({ length: m }, (_, i) => labels[s + i]);
    grid.forEach((f, gi) => {
      curve[gi] += snnlFromDistances(dist, lab, m, f * med, opts.eps);
      tempSum[gi] += f * med;
    });
    used += m;
  }
  const n = ranges.length;
  const mean = curve.map((c) => c / n);
  tempSum = tempSum.map((t) => t / n);
  let best = 0;
  for (let i = 1; i < mean.length; i++) if (mean[i] < mean[best]) best = i;
  return {
    snnl: mean[best],
    temperature_factor: grid[best],
    temperature: tempSum[best],
    curve: mean,
    batches: n,
    samples_used: used,
  };
}
