/**
 * Contracts of the experiment suite that reproduces the paper (docs/experiments.md): what a run
 * is, what it records, and the structured result of an experiment and of a whole suite. Field
 * names are snake_case: they are the JSON the CLI writes and the API returns.
 *
 * @module
 */
import type { EstimatorConfig } from "../nhsic/mod.ts";
import type { TrainingRequest } from "../train/mod.ts";
import type { BackendName, TrainingResult } from "../train/mod.ts";
import type { ToySpec } from "./_toy_data.ts";

/** The named experiments, in the order a suite runs them. */
export const EXPERIMENT_NAMES = [
  "accuracy-vs-depth",
  "information-dynamics",
  "toy",
  "nhsic-regularised",
  "entanglement",
] as const;

/** One of {@link EXPERIMENT_NAMES}. */
export type ExperimentName = typeof EXPERIMENT_NAMES[number];

/**
 * How big a suite is: "cpu" finishes on a 2-core machine within an hour (data subsets, a few
 * epochs); "long" trains on the whole datasets for 30+ epochs where the paper's dynamics are
 * (finishes on a 2-core machine in under two hours with two runs at a time); "full" is meant for
 * a GPU; "micro" is a seconds-long smoke test (tests only; its numbers mean nothing).
 */
export type Scale = "micro" | "cpu" | "long" | "full";

/** Scales a caller may ask for outside tests. */
export const PUBLIC_SCALES: readonly Scale[] = ["cpu", "long", "full"];

/** Extra measurements at every tracking point, taken from the live network (lib/experiments/_probed.ts). */
export interface ProbeSpec {
  /** Soft nearest-neighbour loss of every tracked layer and of the input (lib/metrics/snnl.ts). */
  snnl?: boolean;
  /** The toy's nHSIC(U; T_l) and nHSIC(E; T_l) (lib/experiments/toy.ts). */
  toy_features?: boolean;
  /**
   * nHSIC(X;T_l) and nHSIC(Y;T_l) of every tracked layer again under each estimator setting of
   * the sweep (lib/experiments/_sweep.ts), on the tracking's probe samples.
   */
  estimator_sweep?: boolean;
}

/** One setting of the estimator sweep. */
export interface SweepSetting {
  /** Short id, e.g. "squared-s5-m128". */
  id: string;
  /** In words, e.g. "squared distance, sigma 5, m 128". */
  label: string;
  estimator: EstimatorConfig;
}

/**
 * nHSIC of every tracked layer under one sweep setting at one tracking point: the references
 * nHSIC(X;X) and nHSIC(Y;Y), and nHSIC(X;T_l), nHSIC(Y;T_l) in the order of the point's layers.
 */
export interface SweepValues {
  xx: number;
  yy: number;
  x: number[];
  y: number[];
}

/** One unit of work: one training job (all its methods share the seed) plus its tags. */
export interface RunSpec {
  /** Unique within a suite, e.g. "accuracy-vs-depth/mnist/mlp/d4/seed1". */
  key: string;
  experiment: ExperimentName;
  /** The key without the seed: runs of one group are aggregated over seeds. */
  group: string;
  /** Descriptive tags (dataset, model family, depth, ...). */
  tags: Record<string, string | number>;
  seed: number;
  /** The training request (lib/train/request.ts); `dataset` is ignored when `toy` is set. */
  request: TrainingRequest;
  /** Train on the in-memory toy data instead of `request.dataset`. */
  toy?: ToySpec;
  probe?: ProbeSpec;
}

/** Probe measurements of one layer at one tracking point. */
export interface ProbeLayer {
  name: string;
  /** SNNL at the grid temperature that minimises it. */
  snnl?: number;
  /** That temperature, as a multiple of the batch's median squared distance. */
  snnl_temperature_factor?: number;
  /** nHSIC(U; T_l) and its normalised form nHSIC(U; T_l) / nHSIC(U; U) (toy). */
  nhsic_u?: number;
  nhsic_u_norm?: number;
  /** nHSIC(E; T_l) and nHSIC(E; T_l) / nHSIC(E; E) (toy). */
  nhsic_e?: number;
  nhsic_e_norm?: number;
}

/** Probe measurements of one method at one tracking point. */
export interface ProbePoint {
  method: string;
  step: number;
  layers: ProbeLayer[];
  /** SNNL of the input itself (the entanglement the network starts from). */
  input_snnl?: number;
  /** nHSIC under each estimator setting of the sweep, by setting id. */
  sweep?: Record<string, SweepValues>;
}

/** What one run produced. */
export interface RunRecord {
  key: string;
  experiment: ExperimentName;
  group: string;
  tags: Record<string, string | number>;
  seed: number;
  result: TrainingResult;
  probes?: ProbePoint[];
  /** The estimator settings of the probes' `sweep` values (runs with an estimator sweep). */
  sweep_settings?: SweepSetting[];
  seconds: number;
}

/** Settings of an experiment at one scale, as recorded in results and reports. */
export interface ExperimentSettings {
  /** Human-readable lines ("MNIST: first 4000 training images, first 1000 test images", ...). */
  description: string[];
  seeds: number[];
  /** The requests of one seed's runs (the others differ only in the seed). */
  requests: TrainingRequest[];
}

/** The structured result of one experiment. */
export interface ExperimentResult {
  name: ExperimentName;
  title: string;
  question: string;
  /** Claims of PAPER.md this experiment informs (1-based). */
  claims: number[];
  scale: Scale;
  settings: ExperimentSettings;
  seeds: number[];
  runs: RunRecord[];
  /** Aggregates over seeds (mean, sd) per group and method; shape depends on the experiment. */
  summary: Record<string, unknown>;
  started_at: string;
  finished_at: string;
  wall_seconds: number;
}

/** Where a dataset came from and whether its files were checked. */
export interface DatasetSource {
  name: string;
  source: string;
  md5_verified: boolean;
}

/** The structured result of a suite (what `deno task experiments` writes as results.json). */
export interface SuiteResult {
  kind: "infoplane-experiment-suite";
  version: 1;
  scale: Scale;
  names: ExperimentName[];
  /** The command line (CLI) or the API request that started it. */
  command: string;
  backend: { name: BackendName | string; device: string };
  linalg: string;
  environment: {
    deno: string;
    os: string;
    cpus: number | null;
    /**
     * The machine's load average (1 min) at the start and the end, and its mean over samples
     * taken as runs finished: how much else the machine was doing.
     */
    load?: { start: number; end: number; mean: number; samples: number };
  };
  datasets: DatasetSource[];
  /** Runs executed at once. */
  concurrency: number;
  /** Runs that failed (left out of their experiment's results). */
  failures: Array<{ key: string; experiment: ExperimentName; message: string }>;
  started_at: string;
  finished_at: string;
  /** Wall time of this session (a resumed suite: from the restart). */
  wall_seconds: number;
  /**
   * Runs reused from an earlier, interrupted session of the same suite (their records were kept
   * in the output directory): how many, their own run time, and the wall time of the earlier
   * sessions (from their start to their last finished run).
   */
  resumed?: { runs: number; run_seconds: number; earlier_wall_seconds: number };
  experiments: ExperimentResult[];
}
