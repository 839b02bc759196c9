/**
 * What a caller may ask of an analysis beyond the estimator: extra measures, layer-by-layer
 * similarity maps and a robustness sweep. The zod schemas live here so that the HTTP routes and
 * the OpenAPI document reuse them; {@link resolveAnalysisRequest} turns a raw request into a
 * complete {@link AnalysisRequest} or throws an InputError (422) naming the field at fault.
 *
 * @module
 */
import { z } from "zod";
import { InputError, schemaInputError } from "../errors.ts";
import { DEFAULT_BINS, DEFAULT_NOISE_VARIANCE } from "./information.ts";

/** Every measure an analysis can report per layer, against X and against Y. */
export const MEASURE_NAMES = [
  "nhsic",
  "hsic",
  "cka_linear",
  "cka_gaussian",
  "cka_debiased",
  "mi_binning",
  "mi_kde",
] as const;

/** A measure name. */
export type MeasureName = typeof MEASURE_NAMES[number];

/** What an analysis reports when no measures are asked for (today's fields). */
export const DEFAULT_MEASURES: readonly MeasureName[] = Object.freeze(["nhsic", "cka_linear"]);

/** Measures that can fill a layer-by-layer (or checkpoint-by-checkpoint) similarity map. */
export const SIMILARITY_NAMES = [
  "cka_linear",
  "cka_debiased",
  "nhsic",
  "cka_gaussian",
  "hsic",
] as const;

/** A similarity-map measure name. */
export type SimilarityName = typeof SIMILARITY_NAMES[number];

/** Most settings a sweep may have (the product of its lists' lengths). */
export const MAX_SWEEP_SETTINGS = 64;

/**
 * Prefix of a measure's per-layer fields `<prefix>_x` and `<prefix>_y`. nhsic and cka_linear
 * keep the names results have always had (nhsic_x, cka_x); the others use their own name.
 */
export function measureField(name: MeasureName): string {
  return name === "cka_linear" ? "cka" : name;
}

const centringFree = "the other estimator settings come from the request's estimator";

/** Options of the mutual-information measures. */
export const MeasureOptionsSchema = z.object({
  bins: z.number().int().min(2).max(10_000).optional().describe(
    "mi_binning: equal-width bins per activation over the layer's range (default 30).",
  ),
  noise_variance: z.number().positive().max(1e6).optional().describe(
    "mi_kde: variance of the Gaussian noise added to the activations (default 1e-3).",
  ),
}).strict();

/** Lists of estimator values to analyse the dump under (every combination). */
export const SweepSchema = z.object({
  kernel: z.array(z.enum(["gaussian", "linear"])).min(1).max(2).optional(),
  sigma: z.array(z.union([z.number().min(1e-12).max(1e12), z.literal("median")])).min(1).max(64)
    .optional(),
  distance: z.array(z.enum(["squared", "plain"])).min(1).max(2).optional(),
  eps: z.array(z.number().min(1e-12).max(1)).min(1).max(64).optional(),
  batch_size: z.array(z.number().int().min(4).nullable()).min(1).max(64).optional(),
}).strict().describe(
  `Estimator values to sweep; every combination is analysed (at most ${MAX_SWEEP_SETTINGS}); ` +
    centringFree + ".",
);

/** The fields an analysis request may carry besides the dump and the estimator. */
export const AnalysisRequestFields = {
  measures: z.array(z.enum(MEASURE_NAMES)).min(1).max(MEASURE_NAMES.length).optional().describe(
    'Per-layer measures; default ["nhsic", "cka_linear"]. Each adds <measure>_x and ' +
      "<measure>_y to every layer (nhsic and cka_linear are always reported as nhsic_x/_y and " +
      "cka_x/_y).",
  ),
  measure_options: MeasureOptionsSchema.optional(),
  similarity: z.array(z.enum(SIMILARITY_NAMES)).max(SIMILARITY_NAMES.length).optional()
    .describe(
      "Layer-by-layer similarity maps per checkpoint (rows x, the layers, the last layer), and " +
        "checkpoint-by-checkpoint maps per layer when there are several checkpoints.",
    ),
  sweep: SweepSchema.optional(),
};

/** The request fields as one strict object. */
export const AnalysisRequestSchema = z.object(AnalysisRequestFields).strict();

/** A raw request, as the schema accepts it. */
export type AnalysisRequestInput = z.infer<typeof AnalysisRequestSchema>;

/** A sweep with every list filled in or left out (left out = the request's own value). */
export interface SweepSpec {
  /** Kernels on X and T. */
  kernel?: Array<"gaussian" | "linear">;
  /** Gaussian widths. */
  sigma?: Array<number | "median">;
  /** Distance forms. */
  distance?: Array<"squared" | "plain">;
  /** Regularisers. */
  eps?: number[];
  /** Batch sizes (null = all m samples). */
  batch_size?: Array<number | null>;
}

/** A complete request: defaults filled in, duplicates dropped. */
export interface AnalysisRequest {
  /** Per-layer measures, in request order. */
  measures: MeasureName[];
  /** Options of the mutual-information measures. */
  measure_options: { bins: number; noise_variance: number };
  /** Similarity maps to compute. */
  similarity: SimilarityName[];
  /** The sweep, or null. */
  sweep: SweepSpec | null;
}

/** The request of a plain analysis (today's output). */
export function defaultAnalysisRequest(): AnalysisRequest {
  return {
    measures: [...DEFAULT_MEASURES],
    measure_options: { bins: DEFAULT_BINS, noise_variance: DEFAULT_NOISE_VARIANCE },
    similarity: [],
    sweep: null,
  };
}

/** Whether a request asks for nothing beyond today's output. */
export function isDefaultRequest(r: AnalysisRequest): boolean {
  return r.sweep === null && r.similarity.length === 0 &&
    r.measures.every((m) => (DEFAULT_MEASURES as readonly string[]).includes(m));
}

function unique<T>(v: readonly T[]): T[] {
  const seen = new Set<string>();
  return v.filter((x) => {
    const k = JSON.stringify(x);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Number of settings a sweep expands to (the product of its lists' lengths, duplicates dropped). */
export function sweepSize(spec: SweepSpec): number {
  let n = 1;
  for (const key of ["kernel", "sigma", "distance", "eps", "batch_size"] as const) {
    const v = spec[key];
    if (v) n *= unique(v as unknown[]).length;
  }
  return n;
}

/**
 * Validates and completes the measure, similarity and sweep fields of a request.
 *
 * @example Usage
 * ```ts
 * import { resolveAnalysisRequest } from "./mod.ts";
 * const r = resolveAnalysisRequest({ measures: ["cka_debiased"], sweep: { eps: [1e-5, 1e-3] } });
 * r.measures; // ["cka_debiased"]
 * r.measure_options.bins; // 30
 * ```
 *
 * @param raw The request's fields (unknown keys are rejected; pass only these fields).
 * @returns The complete request.
 * @throws {InputError} `invalid-request` (422) naming the field, e.g. `sweep` for more than 64
 * settings or `measures[2]` for an unknown measure.
 */
export function resolveAnalysisRequest(raw: unknown): AnalysisRequest {
  const parsed = AnalysisRequestSchema.safeParse(raw ?? {});
  if (!parsed.success) throw schemaInputError(parsed.error.issues, "invalid-request");
  const r = parsed.data;
  const base = defaultAnalysisRequest();
  const sweep = r.sweep ? normaliseSweep(r.sweep) : null;
  if (sweep) checkSweepSize(sweep);
  return {
    measures: r.measures ? unique(r.measures) : base.measures,
    measure_options: {
      bins: r.measure_options?.bins ?? base.measure_options.bins,
      noise_variance: r.measure_options?.noise_variance ?? base.measure_options.noise_variance,
    },
    similarity: r.similarity ? unique(r.similarity) : [],
    sweep,
  };
}

function normaliseSweep(s: SweepSpec): SweepSpec {
  const out: SweepSpec = {};
  if (s.kernel) out.kernel = unique(s.kernel);
  if (s.sigma) out.sigma = unique(s.sigma);
  if (s.distance) out.distance = unique(s.distance);
  if (s.eps) out.eps = unique(s.eps);
  if (s.batch_size) out.batch_size = unique(s.batch_size);
  return out;
}

/**
 * Throws the 422 of a sweep with more than {@link MAX_SWEEP_SETTINGS} settings.
 *
 * @param spec The sweep.
 * @throws {InputError} `invalid-request` with field `sweep`.
 */
export function checkSweepSize(spec: SweepSpec): void {
  const n = sweepSize(spec);
  if (n > MAX_SWEEP_SETTINGS) {
    const sizes = (["kernel", "sigma", "distance", "eps", "batch_size"] as const)
      .filter((k) => spec[k]).map((k) => `${k} ${unique(spec[k] as unknown[]).length}`);
    throw new InputError(
      "invalid-request",
      `sweep: ${n} settings (${sizes.join(" x ")}); at most ${MAX_SWEEP_SETTINGS} are allowed, ` +
        `drop some values`,
      "sweep",
    );
  }
}

/**
 * Work of an analysis with its request fields, in the units the service's sync/async threshold
 * uses (m x batch size x matrices, as workers/analysis_jobs.ts counts a plain analysis): the
 * plain analysis, plus one such pass per sweep setting (an upper bound: settings share Grams),
 * plus one unit of m x batch size per similarity pair.
 *
 * @param dump Sizes of the dump: samples, checkpoints and layers.
 * @param base The request's estimator batch size.
 * @param req The complete request.
 * @returns Work units.
 */
export function analysisRequestWork(
  dump: { x: { rows: number }; checkpoints: Array<{ layers: unknown[] }> },
  base: { batch_size: number | null },
  req: AnalysisRequest,
): number {
  const m = dump.x.rows;
  const C = dump.checkpoints.length, L = dump.checkpoints[0]?.layers.length ?? 0;
  const matrices = C * L + 2;
  const pass = (b: number | null) => m * Math.min(b ?? m, m) * matrices;
  let work = pass(base.batch_size);
  if (req.sweep) {
    const sizes = req.sweep.batch_size ?? [base.batch_size];
    const others = sweepSize({ ...req.sweep, batch_size: undefined });
    for (const b of sizes) work += others * pass(b);
  }
  const pairs = C * (L + 1) * (L + 2) / 2 + (C > 1 ? L * C * (C + 1) / 2 : 0);
  work += req.similarity.length * pairs * m * Math.min(base.batch_size ?? m, m);
  return work;
}
