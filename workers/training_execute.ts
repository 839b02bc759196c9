/**
 * Runs one attempt of a training job against a store, whichever engine picked it up: resolves an
 * uploaded dataset to a local path, records events and progress, and writes the outcome.
 */
import type { TrainingJob } from "../lib/train/types.ts";
import { EventRecorder, type RecorderLimits } from "./training_recorder.ts";
import {
  errorInfo,
  type TrainingRecord,
  type TrainingRunner,
  type TrainingStore,
} from "./training_types.ts";

/** Why the engine aborted a running job. */
export type StopReason = "cancel" | "shutdown";

/** How an attempt ended. "interrupted": stopped for a shutdown, to be run again. */
export type Outcome = "done" | "failed" | "cancelled" | "interrupted";

/** What {@link executeTraining} needs. */
export interface ExecuteOptions {
  store: TrainingStore;
  runner: TrainingRunner;
  /** This machine's data dir (dataset caches, uploads). */
  dataDir: string;
  limits: RecorderLimits;
  /** Aborted with a {@link StopReason} as its reason. */
  controller: AbortController;
}

/** Runs `rec` (already marked running by the caller) to its end and records the outcome. */
export async function executeTraining(rec: TrainingRecord, opts: ExecuteOptions): Promise<Outcome> {
  const { store, controller } = opts;
  const signal = controller.signal;
  const recorder = new EventRecorder(store, rec.id, rec.job, opts.limits, () => {
    // A progress write found the job no longer running: someone cancelled it (possibly from
    // another machine); stop at the next step.
    if (!signal.aborted) controller.abort("cancel" satisfies StopReason);
  });
  let outcome: Outcome;
  try {
    const job = await localJob(rec, store, opts.dataDir);
    const result = await opts.runner(job, {
      dataDir: opts.dataDir,
      onEvent: (e) => recorder.push(e),
      signal,
    });
    await recorder.drain();
    outcome = (await store.complete(rec.id, result)) ? "done" : await settledAs(store, rec.id);
  } catch (err) {
    await recorder.drain().catch(() => {});
    if (signal.aborted && signal.reason === "shutdown") {
      outcome = "interrupted";
    } else if (signal.aborted) {
      await store.update(rec.id, { status: "cancelled", finished_at: new Date().toISOString() });
      outcome = "cancelled";
    } else {
      await store.update(rec.id, {
        status: "failed",
        error: errorInfo(err),
        finished_at: new Date().toISOString(),
      });
      outcome = await settledAs(store, rec.id);
    }
  }
  if (outcome !== "interrupted") await store.deleteUpload(rec.id, opts.dataDir).catch(() => {});
  return outcome;
}

/** The job with an uploaded dataset's path made absolute on this machine. */
async function localJob(
  rec: TrainingRecord,
  store: TrainingStore,
  dataDir: string,
): Promise<TrainingJob> {
  if (rec.job.dataset.name !== "upload") return rec.job;
  const path = await store.uploadPath(rec.id, dataDir);
  if (!path) throw new Error("the uploaded dataset of this job is gone");
  return { ...rec.job, dataset: { ...rec.job.dataset, path } };
}

async function settledAs(store: TrainingStore, id: string): Promise<Outcome> {
  const status = (await store.get(id))?.status;
  return status === "done" || status === "cancelled" ? status : "failed";
}
