/**
 * An analysis: the nHSIC table of a dump, normalised values and the summaries, with the exact
 * estimator configuration recorded so that results stay comparable. On request it also carries
 * other dependence measures per layer, layer-by-layer similarity maps and a robustness sweep
 * (lib/measures; docs/metrics.md).
 */
import type { Dump } from "./dump/mod.ts";
import type { Linalg } from "./linalg/mod.ts";
import type { EstimatorConfig } from "./nhsic/mod.ts";
import { measureDump } from "./nhsic/mod.ts";
import { summarise, type Summary } from "./summary.ts";
import {
  type CheckpointSimilarity,
  measureWithExtras,
  type SimilarityMap,
} from "./measures/mod.ts";
import {
  type AnalysisRequest,
  isDefaultRequest,
  type MeasureName,
  resolveAnalysisRequest,
  type SimilarityName,
  type SweepSpec,
} from "./measures/mod.ts";
import { type Robustness, robustness } from "./measures/mod.ts";
import { runSweep, type SweepEntry, sweepWorkUnits } from "./measures/mod.ts";

/** One layer at one checkpoint, as returned to users. */
export interface LayerResult {
  name: string;
  nhsic_x: number;
  nhsic_y: number;
  /** nhsic_x / nHSIC(X;X). */
  nhsic_x_norm: number;
  /** nhsic_y / nHSIC(Y;Y). */
  nhsic_y_norm: number;
  /** Linear CKA against X (the `cka_linear` measure). */
  cka_x: number;
  cka_y: number;
  /** Biased HSIC (measure `hsic`). */
  hsic_x?: number;
  hsic_y?: number;
  /** CKA with Gaussian kernels (measure `cka_gaussian`). */
  cka_gaussian_x?: number;
  cka_gaussian_y?: number;
  /** Debiased linear CKA (measure `cka_debiased`). */
  cka_debiased_x?: number;
  cka_debiased_y?: number;
  /** Binned mutual information in bits (measure `mi_binning`). */
  mi_binning_x?: number;
  mi_binning_y?: number;
  /** Pairwise-distance KDE upper bound on mutual information in bits (measure `mi_kde`). */
  mi_kde_x?: number;
  mi_kde_y?: number;
}

/** What was measured beyond nHSIC and linear CKA, and with which options. */
export interface MeasuresRecord {
  names: MeasureName[];
  /** mi_binning's bins, when it was asked for. */
  bins?: number;
  /** mi_kde's noise variance, when it was asked for. */
  noise_variance?: number;
  /** The similarity measures of the maps, when asked for. */
  similarity?: SimilarityName[];
}

/** The science part of an analysis result (ids and status are added by the service). */
export interface AnalysisOutput {
  m: number;
  num_classes: number;
  estimator: EstimatorConfig & { batches: number; samples_used: number };
  reference: { nhsic_x_x: number; nhsic_y_y: number };
  /** `name` appears for checkpoints the dump named (`epoch1/fc1`); `step` is then their index. */
  checkpoints: Array<{ step: number; name?: string; layers: LayerResult[] }>;
  summary: Summary;
  /** Present when the request asked for more than the default measures. */
  measures?: MeasuresRecord;
  /** Layer-by-layer maps, one per checkpoint and similarity measure. */
  similarity?: SimilarityMap[];
  /** Checkpoint-by-checkpoint maps, one per layer and similarity measure (several checkpoints). */
  checkpoint_similarity?: CheckpointSimilarity[];
  /** The analysis under every setting of the sweep. */
  sweep?: SweepEntry[];
  /** The summary's conclusions checked across the sweep. */
  robustness?: Robustness;
  compute: { linalg: string; seconds: number };
}

/** Options of {@link analyseDump}: the backend and, optionally, what to compute beyond nHSIC. */
export interface AnalyseOptions {
  linalg: Linalg;
  onProgress?: (done: number, total: number) => void;
  /** Per-layer measures (default nhsic and cka_linear: today's output). */
  measures?: MeasureName[];
  /** mi_binning's bins (default 30) and mi_kde's noise variance (default 1e-3). */
  measure_options?: { bins?: number; noise_variance?: number };
  /** Similarity maps to add. */
  similarity?: SimilarityName[];
  /** Estimator values to sweep (at most 64 settings). */
  sweep?: SweepSpec | null;
  /** Bytes the similarity and sweep passes may keep in memory at once (default 1 GiB each). */
  memoryBudget?: number;
}

/**
 * Runs the estimator over a dump and summarises the result; with `measures`, `similarity` or
 * `sweep` it also computes those (in one pass over the data for the first two). Without them the
 * output is exactly what it has always been.
 *
 * @param dump The validated dump.
 * @param cfg The estimator.
 * @param opts Backend, progress and the optional request fields (validated here).
 * @returns The analysis.
 * @throws {InputError} `invalid-request` for bad request fields (e.g. a sweep of more than 64
 * settings), `too-large` for similarity maps that would not fit in memory.
 */
export function analyseDump(
  dump: Dump,
  cfg: EstimatorConfig,
  opts: AnalyseOptions,
): AnalysisOutput {
  const t0 = performance.now();
  const req = requestOf(opts);
  if (isDefaultRequest(req)) {
    const table = measureDump(dump, cfg, { linalg: opts.linalg, onProgress: opts.onProgress });
    return assemble(dump, cfg, table, null, req, null, opts, t0);
  }
  const sweepTotal = req.sweep ? sweepWorkUnits(dump, cfg, req.sweep, opts.memoryBudget) : 0;
  let firstTotal = 0;
  const extras = measureWithExtras(dump, cfg, req, {
    linalg: opts.linalg,
    memoryBudget: opts.memoryBudget,
    onProgress: opts.onProgress
      ? (d, t) => {
        firstTotal = t;
        opts.onProgress!(d, t + sweepTotal);
      }
      : undefined,
  });
  const sweep = req.sweep
    ? runSweep(dump, cfg, req.sweep, {
      linalg: opts.linalg,
      memoryBudget: opts.memoryBudget,
      onProgress: opts.onProgress
        ? (d, t) => opts.onProgress!(firstTotal + d, firstTotal + t)
        : undefined,
    })
    : null;
  return assemble(dump, cfg, extras.table, extras, req, sweep, opts, t0);
}

/** The complete request of the options (validated like an HTTP request's fields). */
function requestOf(opts: AnalyseOptions): AnalysisRequest {
  const raw: Record<string, unknown> = {};
  if (opts.measures !== undefined) raw.measures = opts.measures;
  if (opts.measure_options !== undefined) raw.measure_options = opts.measure_options;
  if (opts.similarity !== undefined) raw.similarity = opts.similarity;
  if (opts.sweep !== undefined && opts.sweep !== null) raw.sweep = opts.sweep;
  return resolveAnalysisRequest(raw);
}

function assemble(
  dump: Dump,
  cfg: EstimatorConfig,
  table: ReturnType<typeof measureDump>,
  extras: ReturnType<typeof measureWithExtras> | null,
  req: AnalysisRequest,
  sweep: SweepEntry[] | null,
  opts: AnalyseOptions,
  t0: number,
): AnalysisOutput {
  const { nhsic_x_x: xx, nhsic_y_y: yy } = table.reference;
  const checkpoints = table.checkpoints.map((cp, ci) => {
    const name = dump.checkpoints[ci].name;
    return {
      step: cp.step,
      ...(name !== undefined ? { name } : {}),
      layers: cp.layers.map((l, li) => ({
        name: l.name,
        nhsic_x: l.nhsic_x,
        nhsic_y: l.nhsic_y,
        nhsic_x_norm: l.nhsic_x / xx,
        nhsic_y_norm: l.nhsic_y / yy,
        cka_x: l.cka_x,
        cka_y: l.cka_y,
        ...(extras ? extras.layers[ci][li] : {}),
      })),
    };
  });
  const summary = summarise({ reference: table.reference, checkpoints });
  const out: AnalysisOutput = {
    m: table.m,
    num_classes: dump.numClasses,
    estimator: { ...cfg, batches: table.batches, samples_used: table.samples_used },
    reference: table.reference,
    checkpoints,
    summary,
    compute: { linalg: opts.linalg.name, seconds: 0 },
  };
  if (extras) {
    const record: MeasuresRecord = { names: req.measures };
    if (req.measures.includes("mi_binning")) record.bins = req.measure_options.bins;
    if (req.measures.includes("mi_kde")) record.noise_variance = req.measure_options.noise_variance;
    if (req.similarity.length > 0) record.similarity = req.similarity;
    out.measures = record;
    if (req.similarity.length > 0) {
      out.similarity = extras.similarity;
      if (extras.checkpoint_similarity.length > 0) {
        out.checkpoint_similarity = extras.checkpoint_similarity;
      }
    }
  }
  if (sweep) {
    out.sweep = sweep;
    out.robustness = robustness(summary, sweep.map((e) => e.summary));
  }
  // compute stays last, as it always was.
  const { compute: _, ...rest } = out;
  return {
    ...rest,
    compute: { linalg: opts.linalg.name, seconds: (performance.now() - t0) / 1000 },
  };
}
