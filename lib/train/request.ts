/**
 * Training requests: the zod schema of what a caller may send and its resolution into a complete
 * {@link TrainingJob} (defaults filled in, presets expanded, methods labelled, the model checked
 * against the dataset's input shape when that is known before loading).
 *
 * Defaults (PAPER.md): Adam lr 5e-4, weight decay 0, batch 128, 1 epoch, seed 0; tracking on
 * the first 1024 test samples in nHSIC batches of 128, 4 extra points in the first epoch, the
 * estimator defaults of lib/nhsic/config.ts; methods e2e and layerwise.
 *
 * @module
 */
import { z } from "zod";
import { InputError, type InputProblem } from "../errors.ts";
import { DEFAULT_ESTIMATOR, type EstimatorConfig } from "../nhsic/mod.ts";
import {
  checkModelAgainstInput,
  fieldPath,
  type ModelPlan,
  ModelSpecSchema,
  resolveModelSpec,
} from "./model_def.ts";
import type { DatasetSpec, MethodSpec, TrainingJob } from "./types.ts";

/** One method to compare. */
export const MethodSpecSchema = z.object({
  name: z.enum(["e2e", "layerwise", "sequential"]),
  head: z.enum(["linear", "mlp", "conv"]).optional(),
  loss: z.enum(["cross_entropy", "similarity", "supervised_contrastive"]).optional(),
  nhsic_lambda: z.number().min(0).max(1000).optional(),
  nhsic_target: z.enum(["global", "local"]).optional(),
  nhsic_on: z.enum(["block", "head"]).optional(),
  label: z.string().min(1).max(80).optional(),
}).strict().describe(
  "A training method; head, loss and the nHSIC regulariser apply to layerwise and sequential.",
);

const limits = {
  train_limit: z.number().int().min(1).optional(),
  test_limit: z.number().int().min(1).optional(),
};

/** Where the data comes from. */
export const DatasetSpecSchema = z.discriminatedUnion("name", [
  z.object({
    name: z.enum(["mnist", "fashion-mnist", "cifar10"]),
    ...limits,
    dir: z.string().min(1).optional(),
  }).strict(),
  z.object({ name: z.literal("upload"), path: z.string().min(1), ...limits }).strict(),
]);

/** Optimiser settings a caller may send (all optional). */
export const OptimizerSchema = z.object({
  lr: z.number().gt(0).max(1).optional(),
  weight_decay: z.number().min(0).max(1).optional(),
  epochs: z.number().int().min(1).max(500).optional(),
  batch_size: z.number().int().min(2).max(4096).optional(),
}).strict();

const centring = z.enum(["right", "both", "none"]);

/** Estimator settings of the tracking (batch_size comes from tracking.probe_batch). */
export const TrackingEstimatorSchema = z.object({
  kernel: z.enum(["gaussian", "linear"]).optional(),
  distance: z.enum(["squared", "plain"]).optional(),
  sigma: z.union([z.number().positive(), z.literal("median")]).optional(),
  eps: z.number().positive().max(1).optional(),
  centring: centring.optional(),
  label_kernel: z.enum(["linear", "gaussian"]).optional(),
  label_centring: centring.optional(),
}).strict();

/** Tracking settings a caller may send (all optional). */
export const TrackingSchema = z.object({
  probe_size: z.number().int().min(8).max(10000).optional(),
  probe_batch: z.number().int().min(4).max(4096).optional(),
  first_epoch_points: z.number().int().min(0).max(64).optional(),
  linear_probe: z.boolean().optional(),
  estimator: TrackingEstimatorSchema.optional(),
}).strict();

/** Compute backends a caller may ask for. */
export const BackendSchema = z.enum(["auto", "tensorflow", "webgpu", "native", "wasm", "cpu"]);

/** A training request. Unknown fields are rejected at every level. */
export const TrainingRequestSchema = z.object({
  model: ModelSpecSchema.optional().describe(
    'A preset ({"preset": "mlp" | "lenet5" | "vgg-small" | "resnet-small", ...}) or a full ' +
      "definition ({blocks: [...]}); default the mlp preset.",
  ),
  dataset: DatasetSpecSchema,
  methods: z.array(MethodSpecSchema).min(1).max(16).optional().describe(
    'Methods to compare on the same architecture and seed; default [{"name": "e2e"}, ' +
      '{"name": "layerwise"}].',
  ),
  optimizer: OptimizerSchema.optional(),
  tracking: TrackingSchema.optional(),
  seed: z.number().int().min(0).max(2147483647).optional(),
  backend: BackendSchema.optional(),
}).strict().describe("A training job comparing methods while tracking nHSIC per layer.");

/** What a request looks like to TypeScript. */
export type TrainingRequest = z.input<typeof TrainingRequestSchema>;

/** A method with its defaults filled in and its display label. */
export type ResolvedMethod = MethodSpec & { label: string };

/** Request defaults. */
export const TRAINING_DEFAULTS = Object.freeze({
  model: { preset: "mlp" },
  methods: [{ name: "e2e" }, { name: "layerwise" }] as MethodSpec[],
  lr: 5e-4,
  weight_decay: 0,
  epochs: 1,
  batch_size: 128,
  seed: 0,
  probe_size: 1024,
  probe_batch: 128,
  first_epoch_points: 4,
  linear_probe: false,
});

/** The problem kind a request field's errors are reported as. */
function problemFor(path: ReadonlyArray<PropertyKey>, missing: boolean): InputProblem {
  if (path[0] === "tracking" && path[1] === "estimator") return "invalid-estimator";
  if (missing) return "missing-field";
  return path[0] === "model" ? "invalid-model" : "invalid-request";
}

/** The InputError of a zod issue of the request. */
function requestIssueError(issue: z.core.$ZodIssue): InputError {
  const field = fieldPath("", issue.path) || "(body)";
  const missing = issue.code === "invalid_type" && issue.message.endsWith("received undefined");
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `"${k}"`).join(", ");
    message = `unknown field${issue.keys.length > 1 ? "s" : ""} ${keys}`;
    if (issue.keys.includes("batch_size") && field === "tracking.estimator") {
      message += " (the estimator's batch size is tracking.probe_batch)";
    }
  }
  return new InputError(problemFor(issue.path, missing), `${field}: ${message}`, field);
}

/**
 * Display label of a method, e.g. "layerwise(cross_entropy, head=mlp, nhsic=0.1 global)", with
 * " on head" when the regulariser measures the head's output.
 */
export function methodLabel(m: MethodSpec): string {
  if (m.name === "e2e") return "e2e";
  const parts: string[] = [m.loss ?? "cross_entropy"];
  if (m.head && m.head !== "linear") parts.push(`head=${m.head}`);
  if (m.nhsic_lambda) {
    parts.push(
      `nhsic=${m.nhsic_lambda} ${m.nhsic_target ?? "global"}` +
        (m.nhsic_on === "head" ? " on head" : ""),
    );
  }
  return `${m.name}(${parts.join(", ")})`;
}

/** Fills in a method's defaults and checks that its fields fit together. */
export function resolveMethod(m: MethodSpec, i: number): ResolvedMethod {
  const at = (f: string) => `methods[${i}].${f}`;
  const bad = (f: string, msg: string): never => {
    throw new InputError("invalid-model", `${at(f)}: ${msg}`, at(f));
  };
  if (m.name === "e2e") {
    for (const f of ["head", "loss", "nhsic_lambda", "nhsic_target", "nhsic_on"] as const) {
      if (m[f] !== undefined) bad(f, "e2e has no local losses, heads or regulariser");
    }
    return { name: "e2e", label: m.label ?? "e2e" };
  }
  const loss = m.loss ?? "cross_entropy";
  if (loss === "similarity" && m.head !== undefined) {
    bad("head", "similarity matching compares the block's own features and uses no head");
  }
  for (const f of ["nhsic_target", "nhsic_on"] as const) {
    if (m[f] !== undefined && !m.nhsic_lambda) {
      bad(f, "set nhsic_lambda > 0 to use the nHSIC regulariser");
    }
  }
  if (m.nhsic_on === "head" && loss === "similarity") {
    bad("nhsic_on", 'similarity matching has no head; use "block"');
  }
  const out: MethodSpec = { name: m.name, loss };
  if (loss !== "similarity") out.head = m.head ?? "linear";
  if (m.nhsic_lambda) {
    out.nhsic_lambda = m.nhsic_lambda;
    out.nhsic_target = m.nhsic_target ?? "global";
    out.nhsic_on = m.nhsic_on ?? "block";
  }
  return { ...out, label: m.label ?? methodLabel(out) };
}

/** Per-sample input shape and classes of a built-in dataset (null for uploads). */
export function knownInput(ds: DatasetSpec): { shape: number[]; numClasses: number } | null {
  switch (ds.name) {
    case "mnist":
    case "fashion-mnist":
      return { shape: [28, 28, 1], numClasses: 10 };
    case "cifar10":
      return { shape: [32, 32, 3], numClasses: 10 };
    default:
      return null;
  }
}

/**
 * Checks a resolved job's model and methods against an input shape: the model's layers (see
 * {@link checkModelAgainstInput}) and each method's heads (a conv head needs image outputs).
 *
 * @throws {InputError} "invalid-model" naming the layer or method at fault.
 */
export function checkJobAgainstInput(
  job: TrainingJob,
  shape: number[],
  numClasses: number,
): ModelPlan {
  const plan = checkModelAgainstInput(job.model, shape, numClasses);
  job.methods.forEach((m, i) => {
    if (m.head !== "conv") return;
    const flat = plan.blocks.find((b) => b.outShape.length !== 3);
    if (flat) {
      const f = `methods[${i}].head`;
      throw new InputError(
        "invalid-model",
        `${f}: a conv head needs image outputs [h, w, c], but block "${flat.name}" outputs ` +
          `[${flat.outShape.join(", ")}]`,
        f,
      );
    }
  });
  return plan;
}

/**
 * Validates a training request and resolves it into a complete job: defaults filled in, the
 * model preset expanded into its definition, methods labelled, and, for built-in datasets, the
 * model checked against their input shape. Uploads are checked when the data is loaded.
 *
 * @throws {InputError} "invalid-model" for model and method problems (field names the layer,
 *   e.g. model.blocks[1].layers[2]) and other invalid values, "invalid-estimator" for
 *   tracking.estimator, "missing-field" for missing required fields.
 */
export function resolveTrainingRequest(raw: unknown): TrainingJob {
  // The model is parsed on its own for messages that name the layer at fault.
  const shell = TrainingRequestSchema.extend({ model: z.unknown().optional() });
  const r = shell.safeParse(raw);
  if (!r.success) throw requestIssueError(r.error.issues[0]);
  const req = r.data;
  const model = resolveModelSpec(req.model ?? TRAINING_DEFAULTS.model);
  const methods = (req.methods ?? TRAINING_DEFAULTS.methods).map(resolveMethod);
  const labels = new Set<string>();
  methods.forEach((m, i) => {
    if (labels.has(m.label)) {
      const f = `methods[${i}].label`;
      throw new InputError(
        "invalid-model",
        `${f}: two methods are labelled "${m.label}"; give one a distinct label`,
        f,
      );
    }
    labels.add(m.label);
  });
  const t = req.tracking ?? {};
  const probeSize = t.probe_size ?? TRAINING_DEFAULTS.probe_size;
  const probeBatch = t.probe_batch ?? Math.min(TRAINING_DEFAULTS.probe_batch, probeSize);
  if (probeBatch > probeSize) {
    throw new InputError(
      "invalid-model",
      `tracking.probe_batch: ${probeBatch} is larger than tracking.probe_size (${probeSize})`,
      "tracking.probe_batch",
    );
  }
  const estimator: EstimatorConfig = {
    ...DEFAULT_ESTIMATOR,
    ...Object.fromEntries(Object.entries(t.estimator ?? {}).filter(([, v]) => v !== undefined)),
    batch_size: probeBatch,
  };
  const o = req.optimizer ?? {};
  const job: TrainingJob = {
    model,
    dataset: req.dataset as DatasetSpec,
    methods,
    optimizer: {
      lr: o.lr ?? TRAINING_DEFAULTS.lr,
      weight_decay: o.weight_decay ?? TRAINING_DEFAULTS.weight_decay,
      epochs: o.epochs ?? TRAINING_DEFAULTS.epochs,
      batch_size: o.batch_size ?? TRAINING_DEFAULTS.batch_size,
    },
    tracking: {
      probe_size: probeSize,
      probe_batch: probeBatch,
      first_epoch_points: t.first_epoch_points ?? TRAINING_DEFAULTS.first_epoch_points,
      linear_probe: t.linear_probe ?? TRAINING_DEFAULTS.linear_probe,
      estimator,
    },
    seed: req.seed ?? TRAINING_DEFAULTS.seed,
    backend: req.backend ?? "auto",
  };
  const input = knownInput(job.dataset);
  if (input) checkJobAgainstInput(job, input.shape, input.numClasses);
  return job;
}
