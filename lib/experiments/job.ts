/**
 * Experiments as jobs of the training engine (workers/): an experiment suite is queued, run,
 * cancelled, persisted and streamed exactly like a training job, by the same engine (embedded
 * Deno KV or BullMQ/Redis); only the runner module differs. This module is that runner: its
 * {@link runTraining} runs experiment jobs and hands every other job to lib/train/run.ts, so a
 * service or worker whose runner module is this file runs both kinds.
 *
 * Wiring (workers/training_config.ts): set the default runner module (or
 * INFOPLANE_TRAINING_RUNNER) to this file.
 *
 * An {@link ExperimentJob} also carries the fields of a TrainingJob that the engine reads for
 * bookkeeping (`methods` for progress: one entry per method of every run; `optimizer.epochs`;
 * `dataset.name`), so that the engine handles it unchanged.
 *
 * @module
 */
import { runTraining as trainJob } from "../train/run.ts";
import { DEFAULT_ESTIMATOR } from "../nhsic/config.ts";
import { resolveMethod } from "../train/request.ts";
import type {
  BackendName,
  MethodSpec,
  RunOptions,
  TrainingJob,
  TrainingResult,
} from "../train/types.ts";
import type { SuiteDataset } from "./_experiment.ts";
import { suiteRuns } from "./_registry.ts";
import { executeRun, runMethodLabel, runSuite } from "./_runner.ts";
import type { ExperimentName, RunRecord, RunSpec, Scale, SuiteResult } from "./types.ts";

/** What an experiment job asks for. */
export interface ExperimentJobSpec {
  /** Experiments to run, in suite order. */
  names: ExperimentName[];
  scale: Scale;
  /** Training backend of every run. */
  backend: BackendName | "auto";
  /** Test-only seed override (see lib/experiments/_configs.ts). */
  seeds?: number[];
  /** Recorded in the result. */
  command: string;
}

/** An experiment suite as a job of the training engine. */
export interface ExperimentJob {
  /** Tells experiment suites apart from training jobs in the engine's store. */
  kind: "experiment";
  /** What to run. */
  experiment: ExperimentJobSpec;
  /** Every method of every run, labelled "<run key> · <method>" (the engine counts them). */
  methods: Array<MethodSpec & { label: string }>;
  /** The most epochs of any run (progress display). */
  optimizer: { lr: number; weight_decay: number; epochs: number; batch_size: number };
  /** Placeholders of the TrainingJob fields the engine reads; the runs carry their own. */
  dataset: { name: "experiment" };
  model: null;
  tracking: TrainingJob["tracking"];
  seed: number;
  backend: BackendName | "auto";
}

/** One run of a suite as a job (the CLI spreads runs over Web Workers this way). */
export interface ExperimentRunJob {
  /** Tells a single run apart from other jobs. */
  kind: "experiment-run";
  /** The run to train. */
  run: RunSpec;
}

/** Whether a stored job is an experiment suite. */
export function isExperimentJob(job: unknown): job is ExperimentJob {
  return (job as { kind?: unknown } | null)?.kind === "experiment";
}

/** Whether a job is a single experiment run. */
export function isExperimentRunJob(job: unknown): job is ExperimentRunJob {
  return (job as { kind?: unknown } | null)?.kind === "experiment-run";
}

/**
 * The engine job of an experiment suite.
 *
 * @throws {InputError} for unknown names or too few seeds (from the suite definitions).
 */
export function experimentJob(spec: ExperimentJobSpec): ExperimentJob {
  const runs = suiteRuns(spec.names, spec.scale, { seeds: spec.seeds, backend: spec.backend });
  const methods = runs.flatMap((r) =>
    (r.request.methods ?? []).map((m, i) => {
      const resolved = resolveMethod(m as MethodSpec, i);
      return { ...resolved, label: runMethodLabel(r, resolved.label) };
    })
  );
  const epochs = Math.max(1, ...runs.map((r) => r.request.optimizer?.epochs ?? 1));
  return {
    kind: "experiment",
    experiment: spec,
    methods,
    optimizer: { lr: 0, weight_decay: 0, epochs, batch_size: 0 },
    dataset: { name: "experiment" },
    model: null,
    tracking: {
      probe_size: 0,
      probe_batch: 0,
      first_epoch_points: 0,
      linear_probe: false,
      estimator: { ...DEFAULT_ESTIMATOR },
    },
    seed: 0,
    backend: spec.backend,
  };
}

/** Where experiment jobs find dataset files (server-side only; never taken from a request). */
export function datasetDirsFromEnv(
  env: (k: string) => string | undefined = (k) => Deno.env.get(k),
): Partial<Record<SuiteDataset, string>> {
  const out: Partial<Record<SuiteDataset, string>> = {};
  const fashion = env("INFOPLANE_FASHION_MNIST_DIR")?.trim();
  if (fashion) out["fashion-mnist"] = fashion;
  return out;
}

function envDirs(): Partial<Record<SuiteDataset, string>> {
  try {
    return datasetDirsFromEnv();
  } catch {
    return {}; // no --allow-env: downloads
  }
}

/**
 * The engine's runner entry: experiment suites and single experiment runs are run here, every
 * other job by lib/train/run.ts. Results of experiment jobs are {@link SuiteResult}s (or
 * {@link RunRecord}s), stored by the engine like training results.
 */
export async function runTraining(
  job: TrainingJob | ExperimentJob | ExperimentRunJob,
  opts: RunOptions,
): Promise<TrainingResult> {
  if (isExperimentJob(job)) {
    const suite: SuiteResult = await runSuite({
      names: job.experiment.names,
      scale: job.experiment.scale,
      seeds: job.experiment.seeds,
      backend: job.experiment.backend,
      command: job.experiment.command,
      dataDir: opts.dataDir,
      datasetDirs: envDirs(),
      onEvent: opts.onEvent,
      signal: opts.signal,
    });
    return suite as unknown as TrainingResult;
  }
  if (isExperimentRunJob(job)) {
    const rec: RunRecord = await executeRun(job.run, opts);
    return rec as unknown as TrainingResult;
  }
  return await trainJob(job, opts);
}
