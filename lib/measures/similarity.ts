/**
 * A similarity matrix over a list of representations of the same samples, computed directly
 * (each representation's kernel built once, every pair one O(n^2) product). For whole dumps,
 * measureWithExtras computes the same maps from the matrices the estimator already has.
 *
 * @module
 */
import type { Matrix } from "../dump/mod.ts";
import type { Linalg } from "../linalg/mod.ts";
import { portableLinalg } from "../linalg/mod.ts";
import { type EstimatorConfig, resolveEstimator } from "../nhsic/mod.ts";
import { gaussianFromGram } from "../nhsic/mod.ts";
import { noccoFromKernel, traceOfProduct } from "../nhsic/mod.ts";
import {
  _centred,
  _debiased,
  _debiasedCka,
  _dot,
  _hsicUnbiasedParts,
  _safeRatio,
} from "./_stats.ts";
import type { SimilarityName } from "./request.ts";

/**
 * The k x k matrix of `measure` between every pair of k representations (n samples each):
 * linear, Gaussian or debiased CKA, biased HSIC, or nHSIC = Tr(R_a R_b) with the estimator's
 * kernel, centring and eps (the same settings on both sides, as for X and T).
 *
 * @example Usage
 * ```ts
 * import { similarityMatrix } from "./mod.ts";
 * const a = { rows: 4, cols: 1, data: new Float64Array([0, 1, 2, 3]) };
 * const b = { rows: 4, cols: 1, data: new Float64Array([1, 0, 3, 2]) };
 * similarityMatrix([a, b], "cka_linear"); // [[1, 0.36], [0.36, 1]]
 * ```
 *
 * @param reps Representations, each n x d_i.
 * @param measure The similarity measure.
 * @param cfg Estimator settings for the Gaussian kernels (sigma, distance) and for nHSIC.
 * @param linalg Backend for Grams and inverses.
 * @returns The symmetric matrix, row-major as nested arrays.
 */
export function similarityMatrix(
  reps: Matrix[],
  measure: SimilarityName,
  cfg: EstimatorConfig = resolveEstimator(),
  linalg: Linalg = portableLinalg,
): number[][] {
  if (reps.length === 0) return [];
  const n = reps[0].rows;
  for (const [i, r] of reps.entries()) {
    if (r.rows !== n || r.data.length !== r.rows * r.cols || r.cols < 1) {
      throw new RangeError(`representation ${i}: ${r.rows}x${r.cols} does not fit ${n} samples`);
    }
  }
  if (n < (measure === "cka_debiased" ? 4 : 2)) {
    throw new RangeError(`${measure} needs more samples, got ${n}`);
  }
  const prepared = reps.map((r) => {
    const f = r.data instanceof Float64Array ? r.data : Float64Array.from(r.data);
    const g = linalg.gram(f, n, r.cols);
    const gaussian = () => {
      const k = g.slice();
      gaussianFromGram(k, n, r.cols, cfg.sigma, cfg.distance);
      return k;
    };
    switch (measure) {
      case "cka_linear":
        return _centred(g, n);
      case "cka_gaussian":
        return _centred(gaussian(), n);
      case "hsic":
        return _centred(cfg.kernel === "gaussian" ? gaussian() : g, n);
      case "cka_debiased":
        return _debiased(g, n);
      case "nhsic":
        return noccoFromKernel(
          cfg.kernel === "gaussian" ? gaussian() : g,
          n,
          cfg.eps,
          cfg.centring,
          linalg,
        );
    }
  });
  const k = reps.length;
  const out = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const a = prepared[i], b = prepared[j];
      let v: number;
      if (a instanceof Float64Array) v = traceOfProduct(a, b as Float64Array, n);
      else if (a.kind === "debiased") {
        const q = b as typeof a;
        v = _debiasedCka(_hsicUnbiasedParts(a, q, n), a.self, q.self);
      } else {
        const q = b as typeof a;
        v = measure === "hsic"
          ? _dot(a.kc, q.kc) / ((n - 1) * (n - 1))
          : _safeRatio(_dot(a.kc, q.kc), Math.sqrt(a.self * q.self));
      }
      out[i][j] = v;
      out[j][i] = v;
    }
  }
  return out;
}
