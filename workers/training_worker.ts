/// <reference lib="deno.worker" />
/**
 * Web Worker entry that runs one training job: it imports the runner module it is told about
 * (lib/train/run.ts, or a stand-in in tests), forwards the job's events, and turns the host's
 * cancel request (a message, mirrored in a shared flag) into the runner's AbortSignal. One
 * worker per job, so that a job can be cancelled or killed without touching the others.
 */
import type { TrainingEvent, TrainingJob, TrainingResult } from "../lib/train/types.ts";

/** What the host posts to start the job. */
export interface TrainingWorkerStart {
  type: "run";
  /** URL of a module exporting `runTraining(job, opts)`. */
  module: string;
  job: TrainingJob;
  dataDir: string;
  /** Int32Array over a SharedArrayBuffer; non-zero = cancel. */
  cancel: Int32Array;
}

/** What the worker posts back: events, then exactly one done or error. */
export type TrainingWorkerReply =
  | { type: "event"; event: TrainingEvent }
  | { type: "done"; result: TrainingResult }
  | { type: "error"; name: string; message: string; problem?: string; field?: string };

type RunTraining = (
  job: TrainingJob,
  opts: { dataDir: string; onEvent?: (e: TrainingEvent) => void; signal?: AbortSignal },
) => Promise<TrainingResult>;

const post = (msg: TrainingWorkerReply) => self.postMessage(msg);
const controller = new AbortController();

self.onmessage = async (e: MessageEvent<TrainingWorkerStart | { type: "cancel" }>) => {
  const msg = e.data;
  if (msg.type === "cancel") {
    controller.abort(new DOMException("training cancelled", "AbortError"));
    return;
  }
  // The flag covers a runner that yields only through timers: checked every 50 ms.
  const poll = setInterval(() => {
    if (Atomics.load(msg.cancel, 0) !== 0 && !controller.signal.aborted) {
      controller.abort(new DOMException("training cancelled", "AbortError"));
    }
  }, 50);
  try {
    const mod = await import(msg.module) as { runTraining?: RunTraining };
    if (typeof mod.runTraining !== "function") {
      throw new Error(`${msg.module} does not export runTraining`);
    }
    const result = await mod.runTraining(msg.job, {
      dataDir: msg.dataDir,
      onEvent: (event) => post({ type: "event", event }),
      signal: controller.signal,
    });
    post({ type: "done", result });
  } catch (err) {
    const x = err as { name?: string; message?: string; problem?: string; field?: string };
    post({
      type: "error",
      name: x?.name ?? "Error",
      message: x?.message ?? String(err),
      problem: typeof x?.problem === "string" ? x.problem : undefined,
      field: typeof x?.field === "string" ? x.field : undefined,
    });
  } finally {
    clearInterval(poll);
  }
};
