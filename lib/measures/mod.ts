/**
 * Measures researchers compare nHSIC against, layer-by-layer similarity maps, and a robustness
 * sweep that checks an analysis's conclusions against the estimator's free choices.
 *
 * - Pure measures on float64 representations (rows = samples), each checking shapes and citing
 *   its source: {@linkcode hsic}, {@linkcode ckaLinear}, {@linkcode ckaGaussian},
 *   {@linkcode ckaDebiased}, {@linkcode miBinning}, {@linkcode miKde}, and their kernel-level
 *   forms ({@linkcode hsicFromKernels}, {@linkcode ckaFromKernels},
 *   {@linkcode hsicUnbiasedFromKernels}).
 * - Whole dumps: {@linkcode measureWithExtras} (measures and maps beside nHSIC, reusing its
 *   Grams and operators), {@linkcode runSweep} (every setting of a sweep, sharing work),
 *   {@linkcode robustness} and {@linkcode differentiationRobustness} (fractions and verdicts).
 * - Requests: {@linkcode AnalysisRequestSchema} (zod) and {@linkcode resolveAnalysisRequest}.
 *
 * Definitions: docs/metrics.md. Most callers want lib/analysis.ts's analyseDump, which takes the
 * request fields and returns them in the analysis.
 *
 * @example Usage
 * ```ts
 * import { ckaDebiased, ckaLinear } from "./mod.ts";
 * const a = { rows: 5, cols: 2, data: new Float64Array([0, 1, 1, 0, 2, 2, 3, 1, 5, 4]) };
 * ckaLinear(a, a); // 1
 * ckaDebiased(a, a); // 1
 * ```
 *
 * @module
 */
export {
  ckaDebiased,
  ckaFromKernels,
  ckaGaussian,
  ckaLinear,
  hsic,
  hsicFromKernels,
  hsicUnbiasedFromKernels,
  kernelMatrix,
  type KernelSpec,
  oneHotMatrix,
} from "./dependence.ts";
export {
  DEFAULT_BINS,
  DEFAULT_NOISE_VARIANCE,
  type InformationPair,
  miBinning,
  miKde,
  valueRange,
} from "./information.ts";
export {
  type CheckpointSimilarity,
  type ExtrasOptions,
  type ExtrasTable,
  measureWithExtras,
  type SimilarityMap,
} from "./engine.ts";
export { similarityMatrix } from "./similarity.ts";
export {
  runSweep,
  type SweepEntry,
  type SweepLayer,
  type SweepOptions,
  sweepSettings,
  sweepWorkUnits,
} from "./sweep.ts";
export {
  type Conclusion,
  differentiationRobustness,
  type RankedResult,
  type RankingRobustness,
  type Robustness,
  robustness,
  ROBUSTNESS_THRESHOLDS,
  type Verdict,
  verdictOf,
} from "./robustness.ts";
export {
  type AnalysisRequest,
  AnalysisRequestFields,
  type AnalysisRequestInput,
  AnalysisRequestSchema,
  analysisRequestWork,
  checkSweepSize,
  DEFAULT_MEASURES,
  defaultAnalysisRequest,
  isDefaultRequest,
  MAX_SWEEP_SETTINGS,
  MEASURE_NAMES,
  measureField,
  type MeasureName,
  MeasureOptionsSchema,
  resolveAnalysisRequest,
  SIMILARITY_NAMES,
  type SimilarityName,
  SweepSchema,
  sweepSize,
  type SweepSpec,
} from "./request.ts";

// Types the public functions take or return, so that callers need no deep imports.
export type { Dump, Matrix } from "../dump/mod.ts";
export type { Linalg } from "../linalg/mod.ts";
export type { EstimatorConfig } from "../nhsic/mod.ts";
export type { DependenceTable } from "../nhsic/mod.ts";
export type { Summary } from "../summary.ts";
