/**
 * Contracts of the training half of infoplane: what a training job asks for, the events it
 * streams and the result it returns. Shared by lib/train (the science), lib/data (datasets),
 * workers/ (job engines) and routes/ (HTTP). Field names are snake_case because they are the
 * JSON the API speaks.
 */
import type { AnalysisOutput } from "../analysis.ts";
import type { EstimatorConfig } from "../nhsic/mod.ts";

/** Training methods compared by the paper (PAPER.md, "Training methods"). */
export type MethodName = "e2e" | "layerwise" | "sequential";

/** One method to run on the shared architecture, optimizer settings and seed. */
export interface MethodSpec {
  name: MethodName;
  /** Auxiliary head of each block (layerwise, sequential). Default "linear". */
  head?: "linear" | "mlp" | "conv";
  /** Local loss of each block (layerwise, sequential). Default "cross_entropy". */
  loss?: "cross_entropy" | "similarity" | "supervised_contrastive";
  /** nHSIC regulariser weight (layerwise): local loss - lambda * nHSIC(target; block output). */
  nhsic_lambda?: number;
  /** "global": nHSIC against the network input X; "local": against the block's own input. */
  nhsic_target?: "global" | "local";
  /**
   * Whose output the regulariser measures: "block" (default), the block's representation T_l;
   * "head", the auxiliary head's output, the same tensor the local loss is computed on (as the
   * authors' code passes it to its criterion). See docs/training.md.
   */
  nhsic_on?: "block" | "head";
  /** Display name; default derived from the fields above, e.g. "layerwise(cross_entropy)". */
  label?: string;
}

/** Where the data comes from. */
export type DatasetSpec =
  | {
    name: "mnist" | "fashion-mnist" | "cifar10";
    /** Use only the first n training / test samples (quick runs, tests). */
    train_limit?: number;
    test_limit?: number;
    /** Read the canonical files from this directory instead of the embedded copy / download. */
    dir?: string;
  }
  | {
    name: "upload";
    /** Path of an uploaded .npz (keys x, y, optional x_test, y_test), resolved by the service. */
    path: string;
    train_limit?: number;
    test_limit?: number;
  };

/** Optimizer settings (defaults from PAPER.md: Adam, lr 5e-4, batch 128). */
export interface OptimizerSpec {
  lr: number;
  weight_decay: number;
  epochs: number;
  batch_size: number;
}

/** What is measured during training. */
export interface TrackingSpec {
  /** Probe samples drawn from the test split (fixed, the same for every method). */
  probe_size: number;
  /** nHSIC is averaged over probe batches of this size (the estimator's batch_size). */
  probe_batch: number;
  /** Extra tracking points inside the first epoch (besides step 0 and each epoch's end). */
  first_epoch_points: number;
  /** Also fit a linear probe per layer (softmax regression on the probe features). */
  linear_probe: boolean;
  /** Estimator settings (batch_size is taken from probe_batch). */
  estimator: EstimatorConfig;
}

/** Compute backends, best first. */
export type BackendName = "tensorflow" | "webgpu" | "native" | "wasm" | "cpu";

/** A fully resolved training job. */
export interface TrainingJob {
  /** Model definition after preset expansion (see lib/train/model_def.ts). */
  model: unknown;
  dataset: DatasetSpec;
  methods: MethodSpec[];
  optimizer: OptimizerSpec;
  tracking: TrackingSpec;
  seed: number;
  /** "auto" picks the best available; INFOPLANE_BACKEND overrides. */
  backend: BackendName | "auto";
}

/** Progress streamed while a job runs (server-sent events carry these as JSON). */
export type TrainingEvent =
  | {
    type: "started";
    method: string;
    backend: string;
    device: string;
    /** Steps this method will take (all stages), and the epochs they make (stages x epochs). */
    total_steps?: number;
    epochs?: number;
  }
  | {
    type: "step";
    method: string;
    epoch: number;
    step: number;
    loss: number;
    /** Running mean of the method's own objective (sum of its local losses, or E2E's loss). */
    objective?: number;
  }
  | {
    type: "checkpoint";
    method: string;
    epoch: number;
    step: number;
    train_loss: number;
    train_accuracy: number;
    test_accuracy: number;
    layers: Array<{ name: string; nhsic_x: number; nhsic_y: number }>;
  }
  | { type: "method_done"; method: string; test_accuracy: number }
  | { type: "log"; message: string };

/** One tracking point of a method's curves. */
export interface CurvePoint {
  epoch: number;
  step: number;
  train_loss: number;
  train_accuracy: number;
  test_accuracy: number;
  /**
   * Running mean of the method's own objective over the epoch so far: E2E's cross-entropy,
   * layer-wise's sum of local losses (nHSIC terms included) plus the classifier's loss, or the
   * current block's local loss in sequential training. Absent at step 0.
   */
  objective?: number;
  /** Per-layer linear-probe accuracy (when tracking.linear_probe). */
  probe_accuracy?: Record<string, number>;
}

/** What one method produced: curves and the same analysis structure as an uploaded dump. */
export interface MethodResult {
  method: MethodSpec & { label: string };
  curves: CurvePoint[];
  analysis: AnalysisOutput;
  final_test_accuracy: number;
  seconds: number;
}

/** The result of a whole training job. */
export interface TrainingResult {
  backend: { name: BackendName; device: string };
  dataset: { name: string; train: number; test: number; shape: number[]; num_classes: number };
  model: unknown;
  optimizer: OptimizerSpec;
  tracking: Omit<TrackingSpec, "estimator"> & { estimator: EstimatorConfig };
  seed: number;
  methods: MethodResult[];
  seconds: number;
}

/** Options every long-running training function takes. */
export interface RunOptions {
  /** Directory for caches (downloaded datasets). */
  dataDir: string;
  onEvent?: (e: TrainingEvent) => void;
  /** Aborting stops the job at the next step with an AbortError. */
  signal?: AbortSignal;
}
