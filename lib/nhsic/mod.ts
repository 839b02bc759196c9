/**
 * The normalised HSIC (nHSIC) estimator of Sakamoto & Sato, "End-to-End Training Induces
 * Information Bottleneck through Layer-Role Differentiation" (TMLR 2024): how much a layer's
 * representation T depends on the input X and on the label Y, as the NOCCO statistic of Fukumizu
 * et al. (NeurIPS 2007) on Gaussian (or linear) kernel Grams. docs/metrics.md has the exact
 * definitions this package implements.
 *
 * - {@linkcode resolveEstimator}, {@linkcode EstimatorSchema}, {@linkcode DEFAULT_ESTIMATOR}: the
 *   estimator's free choices (kernel, distance form, sigma, eps, centring, batch size);
 * - {@linkcode measureDump}: nHSIC(X;T) and nHSIC(Y;T) of every layer and checkpoint of a dump,
 *   sharing X's and Y's operators across layers;
 * - the pieces other measures reuse: kernels ({@linkcode gaussianFromGram},
 *   {@linkcode centreBoth}), NOCCO operators ({@linkcode noccoFromKernel},
 *   {@linkcode noccoFromFeatures}, {@linkcode traceOfProduct}) and batching
 *   ({@linkcode batchRanges}).
 *
 * Most callers want lib/analysis.ts's `analyseDump`, which adds the summaries.
 *
 * @example Usage
 * ```ts ignore
 * import { measureDump, resolveEstimator } from "./mod.ts";
 * import { getLinalg } from "../linalg/mod.ts";
 * const table = measureDump(dump, resolveEstimator({ sigma: "median" }), { linalg: await getLinalg() });
 * console.log(table.checkpoints[0].layers.map((l) => l.nhsic_x));
 * ```
 *
 * @module
 */
export { DEFAULT_ESTIMATOR, EstimatorSchema, resolveEstimator } from "./config.ts";
export type { EstimatorConfig } from "./config.ts";
export { centreBoth, gaussianFromGram, transposeInPlace } from "./kernels.ts";
export {
  batchRanges,
  dot,
  gramAlignments,
  labelOperator,
  labelSelfAlignment,
  measureDump,
  oneHot,
  operatorOf,
  rowsAsFloat64,
  safeRatio,
} from "./measure.ts";
export type { DependenceTable, MeasureObserver, ObservedMatrix } from "./measure.ts";
export { noccoFromFeatures, noccoFromKernel, traceOfProduct } from "./nocco.ts";
