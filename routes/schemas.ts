/** zod schemas of the HTTP API; the OpenAPI document is generated from these. */
import { z } from "@hono/zod-openapi";

const centring = z.enum(["right", "both", "none"]);

/** Estimator settings a caller may send; unknown fields are rejected. */
export const EstimatorSchema = z.object({
  kernel: z.enum(["gaussian", "linear"]).optional().openapi({ description: "Kernel on X and T." }),
  distance: z.enum(["squared", "plain"]).optional().openapi({
    description: "Distance in the Gaussian: squared (default) or the plain distance of early code.",
  }),
  sigma: z.union([z.number().positive(), z.literal("median")]).optional().openapi({
    description: 'Gaussian width, scaled by sqrt(d); or "median" for the median heuristic.',
  }),
  eps: z.number().positive().max(1).optional().openapi({
    description: "Regulariser: eps * m is added to the diagonal.",
  }),
  centring: centring.optional().openapi({ description: "Centring of X and T kernels." }),
  label_kernel: z.enum(["linear", "gaussian"]).optional(),
  label_centring: centring.optional(),
  batch_size: z.number().int().min(4).nullable().optional().openapi({
    description: "Average over consecutive batches of this size; null = exact on all m.",
  }),
}).strict().openapi("Estimator", {
  example: { kernel: "gaussian", sigma: 5, eps: 1e-5, batch_size: null },
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
}).strict().openapi("JsonDump");

const file = z.custom<File>((v) => v instanceof File).openapi({ type: "string", format: "binary" });

/** Multipart form: a whole .npz as `dump`, or one file per array; `estimator` as JSON text. */
export const MultipartDumpSchema = z.record(z.string(), z.union([file, z.string()])).openapi(
  "MultipartDump",
  {
    description:
      "Either a field `dump` with an .npz archive (keys x, y, <layer> or <step>/<layer>), or " +
      "fields `x`, `y` and one field per layer (named <layer> or <step>/<layer>), each an .npy " +
      "or CSV file. Optional field `estimator`: a JSON object (see Estimator).",
  },
);

export const AsyncQuerySchema = z.object({
  async: z.enum(["true", "false"]).optional().openapi({
    description: "Force a queued (202) analysis even when it is small.",
  }),
});

export const IdParamSchema = z.object({
  id: z.string().min(1).openapi({ param: { name: "id", in: "path" } }),
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

/** An analysis as returned by the API (the result fields appear once status is "done"). */
export const AnalysisSchema = z.object({
  id: z.string(),
  status: z.enum(["queued", "running", "done", "failed"]),
  created_at: z.string(),
  updated_at: z.string(),
  m: z.number().int(),
  progress: z.object({ done: z.number(), total: z.number() }).nullable(),
  error: z.object({ message: z.string(), problem: z.string().optional() }).nullable(),
  estimator: z.record(z.string(), z.any()),
  num_classes: z.number().int().optional(),
  reference: z.object({ nhsic_x_x: z.number(), nhsic_y_y: z.number() }).optional(),
  checkpoints: z.array(z.object({ step: z.number(), layers: z.array(LayerResultSchema) }))
    .optional(),
  summary: z.record(z.string(), z.any()).optional().openapi({
    description: "Layer differentiation and information-bottleneck measures (docs/metrics.md).",
  }),
  compute: z.object({ linalg: z.string(), seconds: z.number() }).optional(),
  links: z.object({ self: z.string(), csv: z.string() }),
}).openapi("Analysis");

export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  field: z.string().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
}).openapi("Problem");

export const HealthSchema = z.object({
  status: z.literal("ok"),
  version: z.string(),
  linalg: z.string(),
  workers: z.object({ size: z.number(), running: z.number(), waiting: z.number() }),
  uptime_s: z.number(),
  trainings: z.object({
    engine: z.enum(["embedded", "redis"]),
    running: z.number().int().optional(),
    queued: z.number().int().optional(),
  }).optional().openapi({
    description: "Training engine; counts only when jobs run in this process (embedded).",
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

const TrainingProgressSchema = z.object({
  method: z.string().nullable(),
  methods_done: z.number().int(),
  methods_total: z.number().int(),
  epoch: z.number(),
  epochs: z.number(),
  step: z.number(),
  loss: z.number().nullable(),
  test_accuracy: z.number().nullable(),
}).openapi("TrainingProgress");

/** A training job as returned by the API (`result` appears once status is "done"). */
export const TrainingSchema = z.object({
  id: z.string(),
  status: z.enum(["queued", "running", "done", "failed", "cancelled"]),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  attempts: z.number().int().openapi({
    description: "Starts so far; a job whose worker died restarts from the beginning.",
  }),
  max_attempts: z.number().int(),
  worker: z.string().nullable().openapi({ description: '"embedded" or the worker "host:pid".' }),
  heartbeat_at: z.string().nullable(),
  progress: TrainingProgressSchema.nullable(),
  error: z.object({
    message: z.string(),
    problem: z.string().optional(),
    field: z.string().optional(),
  }).nullable(),
  job: z.record(z.string(), z.any()).openapi({
    description: "The resolved job: model, dataset, methods, optimizer, tracking, seed, backend.",
  }),
  result: z.record(z.string(), z.any()).optional().openapi({
    description: "TrainingResult: backend, dataset, model, optimizer, tracking, seed, seconds, " +
      "and per method its curves and `analysis` (checkpoints with per-layer nHSIC, summary).",
  }),
  links: z.object({ self: z.string(), events: z.string(), csv: z.string() }),
}).openapi("Training");
