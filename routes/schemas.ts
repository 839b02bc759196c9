/** zod schemas of the HTTP API; the OpenAPI document is generated from these. */
import { z } from "@hono/zod-openapi";
import type { SuiteResult } from "../lib/experiments/types.ts";
import { AnalysisRequestFields } from "../lib/measures/mod.ts";
import { EstimatorSchema as EstimatorFields } from "../lib/nhsic/config.ts";
import type { TrainingJob, TrainingResult } from "../lib/train/types.ts";

/** Estimator settings (lib/nhsic/config.ts), a named component of the document. */
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
    .optional(),
  estimator: EstimatorSchema.optional(),
  label: LabelSchema.optional(),
  ...AnalysisRequestFields,
}).strict().openapi("JsonDump");

const file = z.custom<File>((v) => v instanceof File).openapi({ type: "string", format: "binary" });

/** Multipart form: a whole .npz as `dump`, or one file per array; `estimator` as JSON text. */
export const MultipartDumpSchema = z.record(z.string(), z.union([file, z.string()])).openapi(
  "MultipartDump",
  {
    description:
      "Either a field `dump` with an .npz archive (keys x, y, <layer> or <step>/<layer>), or " +
      "fields `x`, `y` and one field per layer (named <layer> or <step>/<layer>), each an .npy " +
      "or CSV file. Optional text fields: `estimator`, `measures`, `measure_options`, " +
      "`similarity` and `sweep`, each JSON (as in the JSON form); `label`, plain text.",
  },
);

export const AsyncQuerySchema = z.object({
  async: z.enum(["true", "false"]).optional().openapi({
    description: "Force a queued (202) analysis even when it is small.",
  }),
});

const LayerResultSchema = z.object({
  name: z.string(),
  nhsic_x: z.number(),
  nhsic_y: z.number(),
  nhsic_x_norm: z.number(),
  nhsic_y_norm: z.number(),
  cka_x: z.number(),
  cka_y: z.number(),
});

const timing = {
  fraction: z.number().openapi({ description: "Share of the work done, 0 to 1." }),
  elapsed_s: z.number().openapi({ description: "Seconds since this attempt started." }),
  eta_s: z.number().nullable().openapi({ description: "Estimated seconds left." }),
};

const ErrorSchema = z.object({
  message: z.string(),
  problem: z.string().optional(),
  field: z.string().optional(),
}).nullable();

/** Fields every job has, whatever its kind. */
const jobFields = {
  id: z.string(),
  kind: z.enum(["analysis", "training", "experiment"]),
  label: z.string().nullable(),
  status: z.enum(["queued", "running", "done", "failed", "cancelled"]),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  attempts: z.number().int().openapi({
    description: "Starts so far; a job whose worker died restarts from the beginning.",
  }),
  max_attempts: z.number().int(),
  worker: z.string().nullable().openapi({
    description: '"embedded", "api" (inline analyses) or the worker "host:pid".',
  }),
  heartbeat_at: z.string().nullable().openapi({
    description: "Last sign of life of the worker running the job.",
  }),
  heartbeat_age_s: z.number().nullable().openapi({
    description: "Seconds since that sign of life, while the job runs: a large value means " +
      "its worker is gone; the job is taken over when a worker is back.",
  }),
  error: ErrorSchema,
};

// ---------------------------------------------------------------------------------------------
// Links of a result: its API resources, its page in the viewer, its charts (routes/ui/).

/** Where a result's resources, page and charts are. */
export const ResultLinksSchema = z.object({
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
export const AnalysisSchema = z.object({
  ...jobFields,
  progress: z.object({ done: z.number(), total: z.number(), ...timing }).nullable(),
  m: z.number().int(),
  estimator: z.record(z.string(), z.any()),
  options: z.record(z.string(), z.any()).openapi({
    description: "Measures, similarity maps and sweep asked for (defaults filled in).",
  }),
  num_classes: z.number().int().optional(),
  reference: z.object({ nhsic_x_x: z.number(), nhsic_y_y: z.number() }).optional(),
  checkpoints: z.array(z.object({ step: z.number(), layers: z.array(LayerResultSchema) }))
    .optional(),
  summary: z.record(z.string(), z.any()).optional().openapi({
    description: "Layer differentiation and information-bottleneck measures (docs/metrics.md).",
  }),
  compute: z.object({ linalg: z.string(), seconds: z.number() }).optional(),
  links: ResultLinksSchema,
}).openapi("Analysis");

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  field: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
}).openapi("Problem");

const LoadSchema = z.object({ running: z.number().int(), waiting: z.number().int() });

export const HealthSchema = z.object({
  status: z.enum(["ok", "degraded"]),
  reasons: z.array(z.string()).openapi({ description: "Why the service is degraded." }),
  version: z.string(),
  linalg: z.string(),
  uptime_s: z.number(),
  workers: z.object({ size: z.number().int(), ...LoadSchema.shape }).openapi({
    description: "This process's analysis Web Workers.",
  }),
  jobs: z.object({
    engine: z.enum(["embedded", "redis"]),
    store: z.string(),
    load: z.record(z.string(), LoadSchema).nullable().openapi({
      description: "Jobs running / waiting in this process per kind (embedded engine).",
    }),
    fleet: z.array(z.object({ name: z.string(), seen_at: z.string(), age_s: z.number() }))
      .nullable().openapi({ description: "Fleet workers and how long ago each was seen." }),
  }),
}).openapi("Health");

/** Multipart form of a training request with an uploaded dataset. */
export const TrainingMultipartSchema = z.record(z.string(), z.union([file, z.string()])).openapi(
  "TrainingMultipart",
  {
    description: "Field `request`: the training request as JSON text (its `dataset` may be " +
      'omitted, or `{"name": "upload", "train_limit": n, "test_limit": n}`); field `dataset`: an ' +
      ".npz file with arrays x (samples) and y (class indices), optionally x_test and y_test.",
  },
);

/** Progress of a training, or of a suite counted in method trainings. */
export const TrainingProgressSchema = z.object({
  method: z.string().nullable(),
  methods_done: z.number().int(),
  methods_total: z.number().int(),
  epoch: z.number(),
  epochs: z.number(),
  step: z.number(),
  loss: z.number().nullable(),
  test_accuracy: z.number().nullable(),
  ...timing,
}).openapi("TrainingProgress");

/** A training job as returned by the API (`result` appears once status is "done"). */
export const TrainingSchema = z.object({
  ...jobFields,
  progress: TrainingProgressSchema.nullable(),
  job: z.custom<TrainingJob>().openapi({
    type: "object",
    description: "The resolved job: model, dataset, methods, optimizer, tracking, seed, backend.",
  }),
  result: z.custom<TrainingResult>().optional().openapi({
    type: "object",
    description: "TrainingResult: backend, dataset, model, optimizer, tracking, seed, seconds, " +
      "and per method its curves and `analysis` (checkpoints with per-layer nHSIC, summary).",
  }),
  links: ResultLinksSchema,
}).openapi("Training");

/** An experiment suite as returned by the API. */
export const ExperimentSchema = z.object({
  ...jobFields,
  request: z.object({ names: z.array(z.string()), scale: z.string(), backend: z.string() }),
  runs: z.number().int().openapi({ description: "Training runs (configuration x seed)." }),
  progress: TrainingProgressSchema.nullable().openapi({
    description: "Method trainings done / total, the method running now (labelled " +
      '"<run key> · <method>"), its epoch, step and accuracy.',
  }),
  verdicts: z.array(z.object({
    number: z.number().int(),
    title: z.string(),
    verdict: z.string(),
    parts: z.array(z.object({ id: z.string(), holds: z.boolean().nullable() })),
  })).optional().openapi({ description: "Once done: the verdict on each of the paper's claims." }),
  result: z.custom<SuiteResult>().optional().openapi({
    type: "object",
    description: "Once done: the suite's structured results (lib/experiments/types.ts " +
      "SuiteResult: settings, seeds, per-run training results and probes, aggregates, wall time).",
  }),
  links: ResultLinksSchema,
}).openapi("Experiment");

/** One job in a listing. */
export const JobSummarySchema = z.object({
  id: z.string(),
  kind: z.enum(["analysis", "training", "experiment"]),
  label: z.string().nullable(),
  status: z.enum(["queued", "running", "done", "failed", "cancelled"]),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  summary: z.string().openapi({
    description: 'One line: "m=512, 4 layers x 5 checkpoints", the model and methods, or the ' +
      "experiments and scale.",
  }),
  progress: z.object(timing).nullable(),
  links: z.record(z.string(), z.string()),
}).openapi("JobSummary");

/** A page of jobs. */
export const JobListSchema = z.object({
  items: z.array(JobSummarySchema),
  next: z.string().nullable().openapi({ description: "URL of the next page; null on the last." }),
}).openapi("JobList");
