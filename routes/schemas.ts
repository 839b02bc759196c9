/**
 * zod schemas of the HTTP API: what requests carry and, precisely, what every response body
 * holds (analyses and their summaries, sweeps, robustness, similarity maps and measures; training
 * jobs and results; experiment suites; progress objects; events). The OpenAPI document, and
 * through it the typed client in client/, is generated from these.
 *
 * The result schemas describe TypeScript types that lib/ and workers/ define; the checks at the
 * end of this module make `deno check` fail when a schema and its type disagree (each must be
 * assignable to the other), and tests/openapi_test.ts parses real results with them (objects are
 * strict, so a field the schema does not know fails there).
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { AnalysisOutput, LayerResult, MeasuresRecord } from "../lib/analysis.ts";
import {
  EXPERIMENT_NAMES,
  type ExperimentResult,
  type RunRecord,
  type SuiteResult,
} from "../lib/experiments/mod.ts";
import {
  type AnalysisRequest,
  AnalysisRequestFields,
  type CheckpointSimilarity,
  MEASURE_NAMES,
  type Robustness,
  SIMILARITY_NAMES,
  type SimilarityMap,
  type SweepEntry,
  SweepSchema,
} from "../lib/measures/mod.ts";
import { type EstimatorConfig, EstimatorSchema as EstimatorFields } from "../lib/nhsic/mod.ts";
import type { Summary } from "../lib/summary.ts";
import { ModelDefSchema } from "../lib/train/mod.ts";
import { TrainingRequestSchema } from "../lib/train/mod.ts";
import type {
  CurvePoint,
  MethodResult,
  TrainingEvent,
  TrainingJob,
  TrainingResult,
} from "../lib/train/mod.ts";
import type { ProgressOf } from "../workers/mod.ts";

const obj = z.strictObject;
/**
 * A named schema or null. (`.nullable()` on a named schema would make zod-to-openapi emit the
 * component itself as nullable, and every other use of it with it.)
 */
const orNull = <T extends z.ZodType>(schema: T) => z.union([schema, z.null()]);
const num = (description: string) => z.number().openapi({ description });
const int = (description: string) => z.number().int().openapi({ description });
const time = (description: string) => z.string().openapi({ format: "date-time", description });

// ---------------------------------------------------------------------------------------------
// Requests

/** Estimator settings a request may send (lib/nhsic/config.ts), a named component. */
export const EstimatorSchema = z.object(EstimatorFields.shape).strict().openapi("Estimator", {
  example: { kernel: "gaussian", sigma: 5, eps: 1e-5, batch_size: null },
});

/** A free-text label a job may carry (listing and search). */
export const LabelSchema = z.string().max(200).openapi({
  description: "Free text to find the job by (listing filter `label`), at most 200 characters.",
});

const nested = z.array(z.any()).openapi({ type: "array", items: {} });
const layersMap = z.record(z.string(), nested).openapi({
  description: "Activations per layer: one nested array (m x ...) per layer name, in depth order.",
});

/** The JSON form of a dump. */
export const JsonDumpSchema = z.object({
  x: nested.openapi({ description: "Inputs, m x ... (flattened per sample)." }),
  y: nested.openapi({ description: "Labels: m class indices or m x C one-hot rows." }),
  layers: layersMap.optional(),
  checkpoints: z.array(z.object({ step: z.number().int().min(0), layers: layersMap }).strict())
    .optional().openapi({
      description: "Several checkpoints (instead of `layers`): the same inputs at each step.",
    }),
  estimator: EstimatorSchema.optional(),
  label: LabelSchema.optional(),
  ...AnalysisRequestFields,
}).strict().openapi("JsonDump", {
  example: {
    x: [[0.1, 0.2], [0.3, 0.1], [0.9, 0.8], [0.7, 0.9]],
    y: [0, 0, 1, 1],
    layers: { fc1: [[0.5], [0.4], [0.1], [0.2]], out: [[1, 0], [1, 0], [0, 1], [0, 1]] },
    estimator: { sigma: "median" },
    label: "toy",
  },
});

/** A file field of a multipart form (`format: binary`). */
const binary = (description: string) =>
  z.custom<File>((v) => v instanceof File).openapi({
    type: "string",
    format: "binary",
    description,
  });
const jsonText = (description: string) =>
  z.string().openapi({ description: `${description} (JSON text)` });

/** Multipart form: a whole .npz as `dump`, or one file per array; the options as JSON text. */
export const MultipartDumpSchema = z.object({
  dump: binary(
    "An .npz archive with arrays x, y, then `<layer>` or `<step>/<layer>` (instead of x, y and a " +
      "field per layer).",
  ).optional(),
  x: binary("Inputs as .npy or CSV (with y and a field per layer, instead of `dump`).")
    .optional(),
  y: binary("Labels as .npy or CSV: class indices or one-hot rows.").optional(),
  estimator: jsonText("Estimator settings, as the `Estimator` schema").optional(),
  measures: jsonText('Per-layer measures, e.g. ["nhsic", "cka_debiased"]').optional(),
  measure_options: jsonText('Options of the information measures, e.g. {"bins": 30}')
    .optional(),
  similarity: jsonText('Similarity maps, e.g. ["cka_linear"]').optional(),
  sweep: jsonText('Estimator values to sweep, e.g. {"sigma": [1, 5, "median"]}').optional(),
  label: z.string().max(200).optional().openapi({ description: "Free text (plain, not JSON)." }),
}).catchall(binary("A layer's activations (.npy or CSV), named `<layer>` or `<step>/<layer>`."))
  .openapi("MultipartDump", {
    description: "Either a field `dump` with an .npz archive (keys x, y, `<layer>` or " +
      "`<step>/<layer>`), or fields `x`, `y` and one field per layer (named `<layer>` or " +
      "`<step>/<layer>`), each an .npy or CSV file. The text fields hold JSON as in the JSON form; " +
      "`label` is plain text.",
  });

export const AsyncQuerySchema = z.object({
  async: z.enum(["true", "false"]).optional().openapi({
    description: "Force a queued (202) analysis even when it is small.",
  }),
});

/** Multipart form of a training request with an uploaded dataset. */
export const TrainingMultipartSchema = z.looseObject({
  // Typed loosely for the validator: lib/train/upload_request.ts names what is missing or wrong.
  request: z.any().optional().openapi({
    type: "string",
    description: "The training request as JSON text (the `TrainingRequest` schema); its " +
      '`dataset` may be omitted, or `{"name": "upload", "train_limit": n, "test_limit": n}`.',
  }),
  dataset: z.any().optional().openapi({
    type: "string",
    format: "binary",
    description: "An .npz file with arrays x (samples) and y (class indices), optionally " +
      "x_test and y_test.",
  }),
}).openapi("TrainingMultipart", {
  description: "A training request with your own data: fields `request` and `dataset`.",
  required: ["request", "dataset"],
  additionalProperties: false,
});

// ---------------------------------------------------------------------------------------------
// Analysis results (lib/analysis.ts AnalysisOutput and what it holds)

const kernel = z.enum(["gaussian", "linear"]);
const distance = z.enum(["squared", "plain"]);
const centring = z.enum(["right", "both", "none"]);
const sigma = z.union([z.number(), z.literal("median")]);

const estimatorConfigShape = {
  kernel: kernel.openapi({ description: "Kernel on X and T." }),
  distance: distance.openapi({ description: "Distance inside the Gaussian." }),
  sigma: sigma.openapi({
    description: 'Gaussian width, scaled by sqrt(d), or "median" (median heuristic).',
  }),
  eps: num("Regulariser: eps * m is added to the diagonal."),
  centring: centring.openapi({ description: "Centring of the X and T kernels." }),
  label_kernel: z.enum(["linear", "gaussian"]).openapi({ description: "Kernel on labels." }),
  label_centring: centring.openapi({ description: "Centring of the label kernel." }),
  batch_size: z.number().int().nullable().openapi({
    description: "Batch size averaged over, or null for the exact estimate on all m.",
  }),
};

/** Complete estimator settings (every field resolved). */
export const EstimatorConfigSchema = obj(estimatorConfigShape).openapi("EstimatorConfig", {
  description: "The estimator settings a result was computed with (docs/metrics.md).",
});

/** The settings with the batches and samples they used. */
export const EstimatorUsedSchema = obj({
  ...estimatorConfigShape,
  batches: int("Batches averaged over."),
  samples_used: int("Samples used (m, or the batches' total)."),
}).openapi("EstimatorUsed");

const referenceSchema = obj({
  nhsic_x_x: num("nHSIC(X;X): the normaliser of nhsic_x."),
  nhsic_y_y: num("nHSIC(Y;Y): the normaliser of nhsic_y."),
}).openapi("Reference");

/** One layer at one checkpoint. */
export const LayerResultSchema = obj({
  name: z.string(),
  nhsic_x: num("nHSIC(X;T)."),
  nhsic_y: num("nHSIC(Y;T)."),
  nhsic_x_norm: num("nhsic_x / nHSIC(X;X)."),
  nhsic_y_norm: num("nhsic_y / nHSIC(Y;Y)."),
  cka_x: num("Linear CKA against X."),
  cka_y: num("Linear CKA against one-hot Y."),
  hsic_x: num("Biased HSIC against X (measure `hsic`).").optional(),
  hsic_y: num("Biased HSIC against Y (measure `hsic`).").optional(),
  cka_gaussian_x: num("CKA with Gaussian kernels against X (`cka_gaussian`).").optional(),
  cka_gaussian_y: num("CKA with Gaussian kernels against Y (`cka_gaussian`).").optional(),
  cka_debiased_x: num("Debiased linear CKA against X (`cka_debiased`).").optional(),
  cka_debiased_y: num("Debiased linear CKA against Y (`cka_debiased`).").optional(),
  mi_binning_x: num("Binned mutual information with X, bits (`mi_binning`).").optional(),
  mi_binning_y: num("Binned mutual information with Y, bits (`mi_binning`).").optional(),
  mi_kde_x: num("KDE upper bound on mutual information with X, bits (`mi_kde`).").optional(),
  mi_kde_y: num("KDE upper bound on mutual information with Y, bits (`mi_kde`).").optional(),
}).openapi("LayerResult");

/** The layers of one checkpoint. */
export const CheckpointResultSchema = obj({
  step: int("The checkpoint's step (its index when the dump named checkpoints)."),
  name: z.string().optional().openapi({
    description: "The checkpoint's name when the dump named it (`epoch1/fc1`).",
  }),
  layers: z.array(LayerResultSchema),
}).openapi("CheckpointResult");

const nullableNum = (description: string) => z.number().nullable().openapi({ description });

/** Per-layer dynamics over the checkpoints. */
export const LayerSummarySchema = obj({
  name: z.string(),
  final_x: num("nHSIC(X;T)/nHSIC(X;X) at the last checkpoint."),
  final_y: num("nHSIC(Y;T)/nHSIC(Y;Y) at the last checkpoint."),
  peak_x: nullableNum("Largest normalised nHSIC(X;T) over checkpoints (null: one checkpoint)."),
  peak_step: nullableNum("Step of the first checkpoint where it peaks."),
  compression: nullableNum("peak_x - final_x."),
  label_retention: nullableNum("final_y / the largest normalised nHSIC(Y;T)."),
  fitting: nullableNum("final_y - the first checkpoint's normalised nHSIC(Y;T)."),
  follows_ib: z.boolean().nullable().openapi({
    description: "Compression and retention over their thresholds, peak before the end.",
  }),
}).openapi("LayerSummary");

/** Layer-differentiation and information-bottleneck summaries (lib/summary.ts). */
export const SummarySchema = obj({
  dynamics: z.boolean().openapi({
    description: "False with a single checkpoint: only the depth profile is meaningful.",
  }),
  note: z.string().nullable(),
  checkpoints: z.number().int(),
  first_step: z.number(),
  last_step: z.number(),
  thresholds: obj({
    compression: num("Minimum compression (in units of nHSIC(X;X))."),
    label_retention: num("Minimum label retention (fraction of the layer's own peak)."),
  }),
  layers: z.array(LayerSummarySchema),
  differentiation: obj({
    score: num("Population standard deviation of compression over layers."),
    mean_compression: z.number(),
    components: z.array(obj({ name: z.string(), compression: z.number() })),
  }).nullable(),
  last_layer: obj({
    name: z.string(),
    follows_ib: z.boolean().nullable(),
    compression: z.number().nullable(),
    label_retention: z.number().nullable(),
    peak_step: z.number().nullable(),
    final_x: z.number(),
    final_y: z.number(),
  }).openapi({ description: "The last layer's information-bottleneck verdict." }),
  depth_profile: z.array(obj({ name: z.string(), x: z.number(), y: z.number() })).openapi({
    description: "Final normalised values by depth.",
  }),
}).openapi("Summary", {
  description: "Layer differentiation and information-bottleneck measures (docs/metrics.md).",
});

const measureName = z.enum(MEASURE_NAMES);
const similarityName = z.enum(SIMILARITY_NAMES);

/** What was measured beyond nHSIC and linear CKA. */
export const MeasuresRecordSchema = obj({
  names: z.array(measureName),
  bins: z.number().int().optional().openapi({ description: "mi_binning's bins." }),
  noise_variance: num("mi_kde's noise variance.").optional(),
  similarity: z.array(similarityName).optional(),
}).openapi("MeasuresRecord", {
  description: "What was measured beyond nHSIC and linear CKA (present when asked for).",
});

/** A layer-by-layer similarity map at one checkpoint. */
export const SimilarityMapSchema = obj({
  step: z.number().int(),
  name: z.string().optional(),
  measure: similarityName,
  layers: z.array(z.string()).openapi({
    description: 'Rows and columns: "x", then the layers in depth order.',
  }),
  matrix: z.array(z.array(z.number())).openapi({ description: "Symmetric (L+1) x (L+1)." }),
}).openapi("SimilarityMap");

/** A checkpoint-by-checkpoint similarity map of one layer. */
export const CheckpointSimilaritySchema = obj({
  layer: z.string(),
  measure: similarityName,
  steps: z.array(z.number().int()),
  names: z.array(z.string()).optional(),
  matrix: z.array(z.array(z.number())).openapi({ description: "Symmetric C x C." }),
}).openapi("CheckpointSimilarity");

/** One layer at one checkpoint under one setting of a sweep. */
const SweepLayerSchema = obj({
  name: z.string(),
  nhsic_x: z.number(),
  nhsic_y: z.number(),
  nhsic_x_norm: z.number(),
  nhsic_y_norm: z.number(),
  cka_x: z.number(),
  cka_y: z.number(),
}).openapi("SweepLayer");

/** The analysis under one setting of the sweep. */
export const SweepEntrySchema = obj({
  estimator: EstimatorUsedSchema,
  reference: referenceSchema,
  checkpoints: z.array(obj({
    step: z.number().int(),
    name: z.string().optional(),
    layers: z.array(SweepLayerSchema),
  })),
  summary: SummarySchema,
}).openapi("SweepEntry");

/** The summary's conclusions checked across the sweep. */
export const RobustnessSchema = obj({
  settings: int("Settings compared."),
  thresholds: obj({ robust: z.number(), absent: z.number() }),
  note: z.string().nullable(),
  conclusions: z.array(obj({
    kind: z.enum(["compression", "follows_ib"]),
    layer: z.string(),
    statement: z.string(),
    baseline: z.boolean().nullable(),
    holds: z.number().int(),
    fraction: z.number(),
    verdict: z.enum(["robust", "depends on the estimator", "absent"]),
  })),
}).openapi("Robustness");

const computeSchema = obj({
  linalg: z.string().openapi({ description: '"openblas" or "portable".' }),
  seconds: z.number(),
});

const analysisOutputShape = {
  m: int("Samples."),
  num_classes: z.number().int(),
  estimator: EstimatorUsedSchema,
  reference: referenceSchema,
  checkpoints: z.array(CheckpointResultSchema),
  summary: SummarySchema,
  // Described on the component: a description here would replace the component's own.
  measures: MeasuresRecordSchema.optional(),
  similarity: z.array(SimilarityMapSchema).optional(),
  checkpoint_similarity: z.array(CheckpointSimilaritySchema).optional(),
  sweep: z.array(SweepEntrySchema).optional(),
  robustness: RobustnessSchema.optional(),
  compute: computeSchema,
};

/** The science part of an analysis (also each training method's `analysis`). */
export const AnalysisResultSchema = obj(analysisOutputShape).openapi("AnalysisResult", {
  description: "The nHSIC table of a dump with its summaries (lib/analysis.ts AnalysisOutput).",
});

/** What an analysis asked for beyond the estimator (defaults filled in). */
export const AnalysisOptionsSchema = obj({
  measures: z.array(measureName),
  measure_options: obj({ bins: z.number().int(), noise_variance: z.number() }),
  similarity: z.array(similarityName),
  sweep: SweepSchema.nullable(),
}).openapi("AnalysisOptions", {
  description: "Measures, similarity maps and sweep an analysis asked for (defaults filled in).",
});

// ---------------------------------------------------------------------------------------------
// Jobs: fields every kind has, progress

const timing = {
  fraction: num("Share of the work done, 0 to 1."),
  elapsed_s: num("Seconds since this attempt started."),
  eta_s: nullableNum("Estimated seconds left; null until there is a basis."),
};

/** Progress of an analysis: estimator tasks done out of total. */
export const AnalysisProgressSchema = obj({
  done: z.number().int(),
  total: z.number().int(),
  ...timing,
}).openapi("AnalysisProgress");

/** Progress of a training, or of a suite counted in method trainings. */
export const TrainingProgressSchema = obj({
  method: z.string().nullable().openapi({ description: "The method running now." }),
  methods_done: z.number().int(),
  methods_total: z.number().int(),
  epoch: num("Epoch of the running method (fractional within an epoch), at most `epochs`."),
  epochs: num("Epochs the running method takes (stages x epochs for sequential training)."),
  step: z.number().int(),
  loss: z.number().nullable(),
  test_accuracy: z.number().nullable(),
  ...timing,
}).openapi("TrainingProgress");

const KINDS = ["analysis", "training", "experiment"] as const;
const STATUSES = ["queued", "running", "done", "failed", "cancelled"] as const;

/** Why a job failed. */
export const JobErrorSchema = obj({
  message: z.string(),
  problem: z.string().optional().openapi({ description: "Problem kind of an input error." }),
  field: z.string().optional(),
}).openapi("JobError");

/** Fields every job has, whatever its kind. */
const jobFields = {
  id: z.string().openapi({ description: "UUID v7 (time-ordered)." }),
  kind: z.enum(KINDS),
  label: z.string().nullable(),
  status: z.enum(STATUSES),
  created_at: time("When the job was created."),
  updated_at: time("Last change of the record."),
  started_at: time("When the current attempt started.").nullable(),
  finished_at: time("When the job finished.").nullable(),
  attempts: int("Starts so far; a job whose worker died restarts from the beginning."),
  max_attempts: z.number().int(),
  worker: z.string().nullable().openapi({
    description: '"embedded", "api" (inline analyses) or the worker "host:pid".',
  }),
  heartbeat_at: time("Last sign of life of the worker running the job.").nullable(),
  heartbeat_age_s: nullableNum(
    "Seconds since that sign of life, while the job runs: a large value means its worker is " +
      "gone; the job is taken over when a worker is back.",
  ),
  error: orNull(JobErrorSchema),
};

const links = z.record(z.string(), z.string()).openapi({
  description: "Related URLs (self, events, csv, charts, ...).",
});

/** Where a result's resources, page and charts are (routes/ui/ makes the last three). */
export const ResultLinksSchema = obj({
  self: z.string(),
  csv: z.string().optional(),
  events: z.string(),
  cancel: z.string().optional(),
  report_md: z.string().optional(),
  report_html: z.string().optional(),
  view: z.string().openapi({
    description: "The result's page in the viewer; add `?embed=1` for a frame.",
  }),
  share: z.string().openapi({
    description: "POST here for an expiring share link that opens the result without the key.",
  }),
  charts: z.record(z.string(), z.string()).openapi({
    description: "Chart name -> URL of its Vega-Lite spec (json). The same URL ending in .svg " +
      "or .png is the service's rendering; `/ui/{kind}/{id}/charts/{name}` is its page. " +
      "Charts answer once the result is done.",
  }),
}).openapi("ResultLinks");

/** An analysis as returned by the API (the result fields appear once status is "done"). */
export const AnalysisSchema = obj({
  ...jobFields,
  progress: orNull(AnalysisProgressSchema),
  ...analysisOutputShape,
  estimator: obj({
    ...estimatorConfigShape,
    batches: int("Batches averaged over (once done).").optional(),
    samples_used: int("Samples used (once done).").optional(),
  }).openapi({ description: "The estimator settings (with what they used, once done)." }),
  options: AnalysisOptionsSchema,
  num_classes: analysisOutputShape.num_classes.optional(),
  reference: referenceSchema.optional(),
  checkpoints: z.array(CheckpointResultSchema).optional(),
  summary: SummarySchema.optional(),
  compute: computeSchema.optional(),
  links: ResultLinksSchema,
}).openapi("Analysis", {
  description: "An analysis: the job's fields, then (once done) the result.",
  example: {
    id: "0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b",
    kind: "analysis",
    label: "mnist mlp",
    status: "done",
    created_at: "2025-05-01T10:00:00.000Z",
    updated_at: "2025-05-01T10:00:00.400Z",
    started_at: "2025-05-01T10:00:00.010Z",
    finished_at: "2025-05-01T10:00:00.400Z",
    attempts: 1,
    max_attempts: 1,
    worker: "api",
    heartbeat_at: "2025-05-01T10:00:00.010Z",
    heartbeat_age_s: null,
    error: null,
    progress: { done: 1, total: 1, fraction: 1, elapsed_s: 0.39, eta_s: 0 },
    m: 512,
    estimator: {
      kernel: "gaussian",
      distance: "squared",
      sigma: 5,
      eps: 1e-5,
      centring: "right",
      label_kernel: "linear",
      label_centring: "none",
      batch_size: null,
      batches: 1,
      samples_used: 512,
    },
    options: {
      measures: ["nhsic", "cka_linear"],
      measure_options: { bins: 30, noise_variance: 0.001 },
      similarity: [],
      sweep: null,
    },
    num_classes: 10,
    reference: { nhsic_x_x: 0.93, nhsic_y_y: 0.88 },
    checkpoints: [{
      step: 600,
      layers: [{
        name: "fc1",
        nhsic_x: 0.61,
        nhsic_y: 0.42,
        nhsic_x_norm: 0.66,
        nhsic_y_norm: 0.48,
        cka_x: 0.71,
        cka_y: 0.35,
      }],
    }],
    summary: {
      dynamics: false,
      note: "one checkpoint: the summaries describe the depth profile only",
      checkpoints: 1,
      first_step: 600,
      last_step: 600,
      thresholds: { compression: 0.05, label_retention: 0.9 },
      layers: [{
        name: "fc1",
        final_x: 0.66,
        final_y: 0.48,
        peak_x: null,
        peak_step: null,
        compression: null,
        label_retention: null,
        fitting: null,
        follows_ib: null,
      }],
      differentiation: null,
      last_layer: {
        name: "fc1",
        follows_ib: null,
        compression: null,
        label_retention: null,
        peak_step: null,
        final_x: 0.66,
        final_y: 0.48,
      },
      depth_profile: [{ name: "fc1", x: 0.66, y: 0.48 }],
    },
    compute: { linalg: "openblas", seconds: 0.38 },
    links: {
      self: "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b",
      csv: "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b.csv",
      events: "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b/events",
      view: "/ui/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b",
      share: "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b/links",
      charts: {
        "depth-profile":
          "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b/charts/depth-profile.json",
      },
    },
  },
});

// ---------------------------------------------------------------------------------------------
// Trainings (lib/train/types.ts)

const backendName = z.enum(["tensorflow", "webgpu", "native", "wasm", "cpu"]);

/** A method as run: its fields with defaults filled in, and its display label. */
export const MethodSchema = obj({
  name: z.enum(["e2e", "layerwise", "sequential"]),
  head: z.enum(["linear", "mlp", "conv"]).optional(),
  loss: z.enum(["cross_entropy", "similarity", "supervised_contrastive"]).optional(),
  nhsic_lambda: z.number().optional(),
  nhsic_target: z.enum(["global", "local"]).optional(),
  nhsic_on: z.enum(["block", "head"]).optional(),
  label: z.string(),
}).openapi("Method");

const limits = {
  train_limit: z.number().int().optional(),
  test_limit: z.number().int().optional(),
};

/** Where a job's data comes from. */
export const DatasetSpecSchema = z.discriminatedUnion("name", [
  obj({
    name: z.enum(["mnist", "fashion-mnist", "cifar10"]),
    ...limits,
    dir: z.string().optional(),
  }),
  obj({
    name: z.literal("upload"),
    path: z.string().openapi({ description: '"(uploaded)" in API answers.' }),
    ...limits,
  }),
]).openapi("DatasetSpec");

const optimizerSchema = obj({
  lr: z.number(),
  weight_decay: z.number(),
  epochs: z.number().int(),
  batch_size: z.number().int(),
}).openapi("Optimizer");

const trackingSchema = obj({
  probe_size: int("Probe samples drawn from the test split."),
  probe_batch: int("nHSIC batch size on the probe."),
  first_epoch_points: int("Extra tracking points inside the first epoch."),
  linear_probe: z.boolean(),
  estimator: EstimatorConfigSchema,
}).openapi("Tracking");

// Rebuilt (`extend`) so that the schema has `.openapi` whichever module zod was patched after.
const modelSchema = ModelDefSchema.extend({}).openapi("ModelDefinition", {
  description: "The network as blocks of layers (presets expanded); a linear classifier to the " +
    'classes is appended and tracked as "logits".',
});

/** A resolved training job. */
export const TrainingJobSchema = obj({
  model: modelSchema,
  dataset: DatasetSpecSchema,
  methods: z.array(MethodSchema.extend({
    label: z.string().optional().openapi({ description: "Always set once the job is resolved." }),
  })),
  optimizer: optimizerSchema,
  tracking: trackingSchema,
  seed: z.number().int(),
  backend: z.union([backendName, z.literal("auto")]),
}).openapi("TrainingJob", {
  description: "The resolved job: defaults filled in, presets expanded, methods labelled.",
});

/** One tracking point of a method's curves. */
export const CurvePointSchema = obj({
  epoch: z.number(),
  step: z.number().int(),
  train_loss: z.number(),
  train_accuracy: z.number(),
  test_accuracy: z.number(),
  objective: num("Running mean of the method's own objective (absent at step 0).").optional(),
  probe_accuracy: z.record(z.string(), z.number()).optional().openapi({
    description: "Per-layer linear-probe accuracy (tracking.linear_probe).",
  }),
}).openapi("CurvePoint");

/** What one method produced. */
export const MethodResultSchema = obj({
  method: MethodSchema,
  curves: z.array(CurvePointSchema),
  analysis: AnalysisResultSchema,
  final_test_accuracy: z.number(),
  seconds: z.number(),
}).openapi("MethodResult");

/** The result of a training job. */
export const TrainingResultSchema = obj({
  backend: obj({ name: backendName, device: z.string() }),
  dataset: obj({
    name: z.string(),
    train: z.number().int(),
    test: z.number().int(),
    shape: z.array(z.number().int()),
    num_classes: z.number().int(),
  }),
  model: modelSchema,
  optimizer: optimizerSchema,
  tracking: trackingSchema,
  seed: z.number().int(),
  methods: z.array(MethodResultSchema),
  seconds: z.number(),
}).openapi("TrainingResult", {
  description: "What a training job produced: per method its curves and nHSIC analysis.",
});

/** Events of a training (and of an experiment suite's trainings), as server-sent events. */
export const TrainingEventSchema = z.discriminatedUnion("type", [
  obj({
    type: z.literal("started"),
    method: z.string(),
    backend: z.string(),
    device: z.string(),
    total_steps: int("Steps this method takes (all stages).").optional(),
    epochs: num("Epochs those steps make (stages x epochs).").optional(),
  }),
  obj({
    type: z.literal("step"),
    method: z.string(),
    epoch: z.number(),
    step: z.number().int(),
    loss: z.number(),
    objective: z.number().optional(),
  }),
  obj({
    type: z.literal("checkpoint"),
    method: z.string(),
    epoch: z.number(),
    step: z.number().int(),
    train_loss: z.number(),
    train_accuracy: z.number(),
    test_accuracy: z.number(),
    layers: z.array(obj({ name: z.string(), nhsic_x: z.number(), nhsic_y: z.number() })),
  }),
  obj({ type: z.literal("method_done"), method: z.string(), test_accuracy: z.number() }),
  obj({ type: z.literal("log"), message: z.string() }),
]).openapi("TrainingEvent", {
  description: "The data of a job's logged events (SSE event name = `type`).",
});

/** The final event of every event stream. */
export const EndEventSchema = obj({
  status: z.enum([...STATUSES, "gone"]),
  error: orNull(JobErrorSchema),
}).openapi("EndEvent", {
  description: 'The data of the final SSE event `end`; "gone": the job was deleted.',
});

/** A training job as returned by the API (`result` appears once status is "done"). */
export const TrainingSchema = obj({
  ...jobFields,
  progress: orNull(TrainingProgressSchema),
  job: TrainingJobSchema,
  result: TrainingResultSchema.optional(),
  links: ResultLinksSchema,
}).openapi("Training", {
  description: "A training job: the job's fields, the resolved request and (once done) the result.",
});

// ---------------------------------------------------------------------------------------------
// Experiment suites (lib/experiments/types.ts)

const experimentName = z.enum(EXPERIMENT_NAMES);
const scale = z.enum(["micro", "cpu", "long", "full"]);
const tags = z.record(z.string(), z.union([z.string(), z.number()]));
const estimatorConfigRef = EstimatorConfigSchema;

const ProbeLayerSchema = obj({
  name: z.string(),
  snnl: z.number().optional(),
  snnl_temperature_factor: z.number().optional(),
  nhsic_u: z.number().optional(),
  nhsic_u_norm: z.number().optional(),
  nhsic_e: z.number().optional(),
  nhsic_e_norm: z.number().optional(),
}).openapi("ProbeLayer");

const ProbePointSchema = obj({
  method: z.string(),
  step: z.number().int(),
  layers: z.array(ProbeLayerSchema),
  input_snnl: z.number().optional(),
  sweep: z.record(
    z.string(),
    obj({ xx: z.number(), yy: z.number(), x: z.array(z.number()), y: z.array(z.number()) }),
  ).optional().openapi({ description: "nHSIC under each setting of the sweep, by setting id." }),
}).openapi("ProbePoint");

/** What one run of an experiment produced. */
export const RunRecordSchema = obj({
  key: z.string(),
  experiment: experimentName,
  group: z.string(),
  tags,
  seed: z.number().int(),
  result: TrainingResultSchema,
  probes: z.array(ProbePointSchema).optional(),
  sweep_settings: z.array(obj({ id: z.string(), label: z.string(), estimator: estimatorConfigRef }))
    .optional(),
  seconds: z.number(),
}).openapi("RunRecord");

/** The structured result of one experiment. */
export const ExperimentResultSchema = obj({
  name: experimentName,
  title: z.string(),
  question: z.string(),
  claims: z.array(z.number().int()),
  scale,
  settings: obj({
    description: z.array(z.string()),
    seeds: z.array(z.number().int()),
    requests: z.array(TrainingRequestSchema.extend({}).openapi("TrainingRequestSpec")).openapi({
      description: "The requests of one seed's runs.",
    }),
  }),
  seeds: z.array(z.number().int()),
  runs: z.array(RunRecordSchema),
  summary: z.record(z.string(), z.unknown()).openapi({
    description: "Aggregates over seeds per group and method; the shape depends on the experiment.",
  }),
  started_at: time("Start."),
  finished_at: time("End."),
  wall_seconds: z.number(),
}).openapi("ExperimentResult");

/** The structured result of a suite. */
export const SuiteResultSchema = obj({
  kind: z.literal("infoplane-experiment-suite"),
  version: z.literal(1),
  scale,
  names: z.array(experimentName),
  command: z.string(),
  backend: obj({ name: z.string(), device: z.string() }),
  linalg: z.string(),
  environment: obj({
    deno: z.string(),
    os: z.string(),
    cpus: z.number().int().nullable(),
    load: obj({ start: z.number(), end: z.number(), mean: z.number(), samples: z.number() })
      .optional(),
  }),
  datasets: z.array(obj({ name: z.string(), source: z.string(), md5_verified: z.boolean() })),
  concurrency: z.number().int(),
  failures: z.array(obj({ key: z.string(), experiment: experimentName, message: z.string() })),
  started_at: time("Start."),
  finished_at: time("End."),
  wall_seconds: z.number(),
  resumed: obj({
    runs: z.number().int(),
    run_seconds: z.number(),
    earlier_wall_seconds: z.number(),
  })
    .optional(),
  experiments: z.array(ExperimentResultSchema),
}).openapi("SuiteResult", {
  description: "A finished suite's structured results (what `deno task experiments` writes).",
});

/** An experiment suite as returned by the API. */
export const ExperimentSchema = obj({
  ...jobFields,
  request: obj({ names: z.array(experimentName), scale, backend: z.string() }),
  runs: int("Training runs (configuration x seed)."),
  progress: orNull(TrainingProgressSchema).openapi({
    description: "Method trainings done / total, the method running now (labelled " +
      "`<run key> · <method>`), its epoch, step and accuracy.",
  }),
  verdicts: z.array(obj({
    number: z.number().int(),
    title: z.string(),
    verdict: z.string(),
    parts: z.array(obj({ id: z.string(), holds: z.boolean().nullable() })),
  })).optional().openapi({ description: "Once done: the verdict on each of the paper's claims." }),
  result: SuiteResultSchema.optional(),
  links: ResultLinksSchema,
}).openapi("Experiment", {
  description: "An experiment suite: the job's fields and (once done) verdicts and results.",
});

// ---------------------------------------------------------------------------------------------
// Listings, problems, health

/** One job in a listing. */
export const JobSummarySchema = obj({
  id: z.string(),
  kind: z.enum(KINDS),
  label: z.string().nullable(),
  status: z.enum(STATUSES),
  created_at: time("When the job was created."),
  finished_at: time("When it finished.").nullable(),
  summary: z.string().openapi({
    description: 'One line: "m=512, 4 layers x 5 checkpoints", the model and methods, or the ' +
      "experiments and scale.",
  }),
  progress: obj(timing).nullable(),
  links,
}).openapi("JobSummary", { description: "One job in a listing." });

/** A page of jobs. */
export const JobListSchema = obj({
  items: z.array(JobSummarySchema),
  next: z.string().nullable().openapi({ description: "URL of the next page; null on the last." }),
}).openapi("JobList", {
  example: {
    items: [{
      id: "0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b",
      kind: "analysis",
      label: "mnist mlp",
      status: "done",
      created_at: "2025-05-01T10:00:00.000Z",
      finished_at: "2025-05-01T10:00:00.400Z",
      summary: "m=512, 4 layers x 5 checkpoints",
      progress: { fraction: 1, elapsed_s: 0.39, eta_s: 0 },
      links: { self: "/v1/analyses/0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b" },
    }],
    next: null,
  },
});

export const ProblemSchema = obj({
  type: z.string().openapi({
    description: "`/docs/problems#<kind>`: the kind of problem, explained on that page.",
  }),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().openapi({ description: "What went wrong, in words meant for you." }),
  field: z.string().optional().openapi({
    description: 'The request field, form field or file at fault ("(body)" for the body).',
  }),
  errors: z.array(obj({ field: z.string(), message: z.string() })).optional().openapi({
    description: "Every validation error, when there were several.",
  }),
}).openapi("Problem", {
  description: "An RFC 9457 problem: every error of the API.",
  example: {
    type: "/docs/problems#shape-mismatch",
    title: "Shape mismatch",
    status: 422,
    detail: 'layer "fc2" has 255 rows but x has 256',
    field: "fc2",
  },
});

const LoadSchema = obj({ running: z.number().int(), waiting: z.number().int() });

export const HealthSchema = obj({
  status: z.enum(["ok", "degraded"]),
  reasons: z.array(z.string()).openapi({ description: "Why the service is degraded." }),
  version: z.string(),
  linalg: z.string(),
  uptime_s: z.number(),
  workers: obj({ size: z.number().int(), ...LoadSchema.shape }).openapi({
    description: "This process's analysis workers (inline in serverless mode).",
  }),
  jobs: obj({
    engine: z.enum(["embedded", "redis"]),
    store: z.string(),
    load: z.record(z.string(), LoadSchema).nullable().openapi({
      description: "Jobs running / waiting in this process per kind (embedded engine).",
    }),
    fleet: z.array(obj({ name: z.string(), seen_at: z.string(), age_s: z.number() }))
      .nullable().openapi({ description: "Fleet workers and how long ago each was seen." }),
  }),
}).openapi("Health", { description: "Liveness, backend and load." });

// ---------------------------------------------------------------------------------------------
// Schemas and types agree

/** Replaces `unknown` (fields lib/ leaves untyped, e.g. a model) with `any`, recursively. */
// deno-lint-ignore no-explicit-any
type Loosen<T> = unknown extends T ? any
  : T extends ReadonlyArray<infer U> ? Loosen<U>[]
  : T extends object ? { [K in keyof T]: Loosen<T[K]> }
  : T;

/** Keys of any member of a union. */
type AllKeys<T> = T extends unknown ? keyof T : never;
/** The type at key K in whichever members of T have it. */
type ValueAt<T, K> = T extends unknown ? (K extends keyof T ? T[K] : never) : never;

/**
 * Paths of fields the schema has and the type has not (optional ones included, which plain
 * assignability lets through), e.g. ".checkpoints[].layers[].extra"; never when there are none.
 */
type ExtraKeys<S, T, P extends string = ""> = unknown extends T ? never
  : unknown extends S ? never
  : S extends ReadonlyArray<infer SU>
    ? (NonNullable<T> extends ReadonlyArray<infer TU> ? ExtraKeys<SU, TU, `${P}[]`> : never)
  : S extends object ? {
      [K in keyof S & string]: K extends AllKeys<NonNullable<T>>
        ? ExtraKeys<S[K], ValueAt<NonNullable<T>, K>, `${P}.${K}`>
        : `${P}.${K}`;
    }[keyof S & string]
  : never;

/**
 * True when every value the schema admits is a `T`, every `T` is accepted by the schema (fields
 * lib/ types as `unknown` aside) and each has every field of the other (optional ones too, which
 * plain assignability lets through); otherwise a message, or the path of the field one of them
 * lacks, that fails the check below.
 */
type Agrees<S extends z.ZodType, T> = [z.output<S>] extends [T]
  ? [Loosen<T>] extends [z.input<S>]
    ? [ExtraKeys<z.output<S>, T>] extends [never]
      ? [ExtraKeys<T, z.input<S>>] extends [never] ? true : ExtraKeys<T, z.input<S>>
    : ExtraKeys<z.output<S>, T>
  : "a value of the type does not fit the schema"
  : "a value of the schema does not fit the type";

// Each line fails `deno check` when a schema and its type disagree.
true satisfies Agrees<typeof SummarySchema, Summary>;
true satisfies Agrees<typeof LayerResultSchema, LayerResult>;
true satisfies Agrees<typeof MeasuresRecordSchema, MeasuresRecord>;
true satisfies Agrees<typeof SimilarityMapSchema, SimilarityMap>;
true satisfies Agrees<typeof CheckpointSimilaritySchema, CheckpointSimilarity>;
true satisfies Agrees<typeof SweepEntrySchema, SweepEntry>;
true satisfies Agrees<typeof RobustnessSchema, Robustness>;
true satisfies Agrees<typeof AnalysisResultSchema, AnalysisOutput>;
true satisfies Agrees<typeof AnalysisOptionsSchema, AnalysisRequest>;
true satisfies Agrees<typeof EstimatorConfigSchema, EstimatorConfig>;
true satisfies Agrees<typeof AnalysisProgressSchema, ProgressOf<"analysis">>;
true satisfies Agrees<typeof TrainingProgressSchema, ProgressOf<"training">>;
true satisfies Agrees<typeof TrainingJobSchema, TrainingJob>;
true satisfies Agrees<typeof CurvePointSchema, CurvePoint>;
true satisfies Agrees<typeof MethodResultSchema, MethodResult>;
true satisfies Agrees<typeof TrainingResultSchema, TrainingResult>;
true satisfies Agrees<typeof TrainingEventSchema, TrainingEvent>;
true satisfies Agrees<typeof RunRecordSchema, RunRecord>;
true satisfies Agrees<typeof ExperimentResultSchema, ExperimentResult>;
true satisfies Agrees<typeof SuiteResultSchema, SuiteResult>;
