/**
 * Kernel matrices built from an inner-product Gram matrix G = A A^T (row-major m x m, float64).
 * Working from G keeps the m x m x d distance tensor of the published code out of memory: the
 * squared distance is G_ii + G_jj - 2 G_ij.
 */

/** Which distance enters the Gaussian kernel. */
export type DistanceForm = "squared" | "plain";

/**
 * Turns a Gram matrix into the distance matrix in place: squared Euclidean distances, or their
 * square roots for the plain form. Round-off can make a squared distance slightly negative, so
 * it is clamped at 0, and the diagonal is exactly 0.
 */
export function gramToDistances(g: Float64Array, m: number, form: DistanceForm): void {
  const diag = new Float64Array(m);
  for (let i = 0; i < m; i++) diag[i] = g[i * m + i];
  for (let i = 0; i < m; i++) {
    const row = i * m, gi = diag[i];
    for (let j = i + 1; j < m; j++) {
      let d = gi + diag[j] - 2 * g[row + j];
      if (d < 0) d = 0;
      if (form === "plain") d = Math.sqrt(d);
      g[row + j] = d;
      g[j * m + i] = d;
    }
    g[row + i] = 0;
  }
}

/** Median of the off-diagonal entries of a symmetric matrix (over pairs i < j). */
export function medianOffDiagonal(a: Float64Array, m: number): number {
  const n = (m * (m - 1)) / 2;
  if (n === 0) return 0;
  const v = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) v[k++] = a[i * m + j];
  v.sort();
  return n % 2 ? v[(n - 1) / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/**
 * Applies k = exp(-D / (2 s2)) in place to a distance matrix D (squared or plain distances).
 * Returns nothing: the caller chose s2 (sigma^2 d, or the median of D).
 */
export function distancesToGaussian(dist: Float64Array, s2: number): void {
  const c = -1 / (2 * s2);
  for (let i = 0; i < dist.length; i++) dist[i] = Math.exp(c * dist[i]);
}

/**
 * Converts a Gram matrix into a Gaussian kernel matrix in place and returns the denominator
 * scale s2 it used: sigma^2 * d for a numeric sigma, or the median off-diagonal distance (squared
 * or plain, matching `form`) for the median heuristic. A median of 0 (all samples equal) falls
 * back to 1 so the kernel stays defined.
 */
export function gaussianFromGram(
  g: Float64Array,
  m: number,
  d: number,
  sigma: number | "median",
  form: DistanceForm,
): number {
  if (sigma === "median") {
    gramToDistances(g, m, form);
    let s2 = medianOffDiagonal(g, m);
    if (!(s2 > 0)) s2 = 1;
    distancesToGaussian(g, s2);
    return s2;
  }
  // One pass over the upper triangle: distance and exp fused, mirrored (half the exps).
  const s2 = sigma * sigma * d, c = -1 / (2 * s2);
  const diag = new Float64Array(m);
  for (let i = 0; i < m; i++) diag[i] = g[i * m + i];
  const plain = form === "plain";
  for (let i = 0; i < m; i++) {
    const row = i * m, gi = diag[i];
    for (let j = i + 1; j < m; j++) {
      let dist = gi + diag[j] - 2 * g[row + j];
      if (dist < 0) dist = 0;
      const k = Math.exp(c * (plain ? Math.sqrt(dist) : dist));
      g[row + j] = k;
      g[j * m + i] = k;
    }
    g[row + i] = 1;
  }
  return s2;
}

/** Two-sided centring H K H in place (K symmetric m x m). */
export function centreBoth(k: Float64Array, m: number): void {
  const mean = new Float64Array(m);
  let total = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    const row = i * m;
    for (let j = 0; j < m; j++) s += k[row + j];
    mean[i] = s / m;
    total += s;
  }
  const all = total / (m * m);
  for (let i = 0; i < m; i++) {
    const row = i * m, mi = mean[i] - all;
    for (let j = 0; j < m; j++) k[row + j] -= mi + mean[j];
  }
}

/** Transposes a square row-major matrix in place, in cache-sized tiles. */
export function transposeInPlace(a: Float64Array, m: number): void {
  const T = 32;
  for (let i0 = 0; i0 < m; i0 += T) {
    for (let j0 = i0; j0 < m; j0 += T) {
      const i1 = Math.min(i0 + T, m), j1 = Math.min(j0 + T, m);
      for (let i = i0; i < i1; i++) {
        for (let j = Math.max(j0, i + 1); j < j1; j++) {
          const t = a[i * m + j];
          a[i * m + j] = a[j * m + i];
          a[j * m + i] = t;
        }
      }
    }
  }
}
