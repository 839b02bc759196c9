/**
 * Runs a training job: selects the compute backend, loads the dataset, checks the model against
 * it and trains every method in turn from the same seeded initial weights, streaming events.
 * Workers load this module and call {@link runTraining}.
 *
 * @module
 */
import type { Dataset } from "../data/mod.ts";
import { loadDataset } from "../data/mod.ts";
import { InputError } from "../errors.ts";
import { getLinalg } from "../linalg/mod.ts";
import { MIN_SAMPLES } from "../dump/mod.ts";
import { type BackendChoice, selectBackend } from "./backend.ts";
import { abortError, type CheckpointHook, trainMethod } from "./loop.ts";
import { checkJobAgainstInput, type ResolvedMethod } from "./request.ts";
import type { MethodResult, RunOptions, TrainingJob, TrainingResult } from "./types.ts";

/**
 * Runs a resolved job (see lib/train/request.ts) end to end.
 *
 * @throws {InputError} when the model does not fit the dataset ("invalid-model") or the dataset
 *   is unusable; an Error named "AbortError" within one step of `opts.signal` aborting; an Error
 *   when the job's backend is unavailable.
 */
export async function runTraining(job: TrainingJob, opts: RunOptions): Promise<TrainingResult> {
  const backend = await selectBackend(job.backend);
  let dataset: Dataset;
  try {
    dataset = await loadDataset(job.dataset, { dataDir: opts.dataDir, signal: opts.signal });
  } catch (e) {
    if (opts.signal?.aborted) throw abortError(opts.signal);
    throw e;
  }
  return await runTrainingOn(job, dataset, opts, backend);
}

/**
 * Runs a job on an already loaded dataset (tests, scripts). The backend is selected from the job
 * unless given.
 */
export async function runTrainingOn(
  job: TrainingJob,
  dataset: Dataset,
  opts: Omit<RunOptions, "dataDir"> & { dataDir?: string },
  backend?: BackendChoice,
  onCheckpoint?: CheckpointHook,
): Promise<TrainingResult> {
  const t0 = performance.now();
  const chosen = backend ?? await selectBackend(job.backend);
  const plan = checkJobAgainstInput(job, dataset.shape, dataset.numClasses);
  if (dataset.test.n < MIN_SAMPLES) {
    throw new InputError(
      "too-few-samples",
      `the test split has ${dataset.test.n} samples; tracking needs at least ${MIN_SAMPLES}`,
      "dataset.test_limit",
    );
  }
  if (dataset.train.n < 2) {
    throw new InputError(
      "too-few-samples",
      `the training split has ${dataset.train.n} samples; training needs at least 2`,
      "dataset.train_limit",
    );
  }
  const linalg = getLinalg();
  const methods: MethodResult[] = [];
  for (const m of job.methods) {
    const method = (m.label ? m : { ...m, label: m.name }) as ResolvedMethod;
    methods.push(
      await trainMethod({
        job,
        dataset,
        plan,
        method,
        backend: chosen,
        linalg,
        signal: opts.signal,
        onEvent: opts.onEvent,
        onCheckpoint,
      }),
    );
  }
  return {
    backend: chosen,
    dataset: {
      name: dataset.name,
      train: dataset.train.n,
      test: dataset.test.n,
      shape: [...dataset.shape],
      num_classes: dataset.numClasses,
    },
    model: job.model,
    optimizer: { ...job.optimizer },
    tracking: { ...job.tracking },
    seed: job.seed,
    methods,
    seconds: (performance.now() - t0) / 1000,
  };
}
