/**
 * Runners for the training engines: {@link workerRunner} runs each job in its own Web Worker
 * (the event loop of the API or of a queue worker stays free for HTTP, lock renewals and
 * heartbeats). Any other `(job, opts) => Promise<TrainingResult>` works as a runner too.
 */
import type { RunOptions, TrainingJob, TrainingResult } from "../lib/train/types.ts";
import type { TrainingWorkerReply, TrainingWorkerStart } from "./training_worker.ts";
import type { TrainingRunner } from "./training_types.ts";

/** An error that crossed the worker boundary, with the input problem kind when there was one. */
export class TrainingRunError extends Error {
  constructor(name: string, message: string, readonly problem?: string, readonly field?: string) {
    super(message);
    this.name = name;
  }
}

/** Options of {@link workerRunner}. */
export interface WorkerRunnerOptions {
  /**
   * After a cancel, how long the job may take to reach its next step before its worker is
   * terminated (a runner stuck in one long computation still stops).
   */
  graceMs?: number;
}

/**
 * A runner that loads `module` (exporting `runTraining(job, opts)`, i.e. lib/train/run.ts) in a
 * fresh Web Worker per job. Aborting `opts.signal` asks the job to stop at its next step and
 * terminates the worker if it has not stopped within `graceMs`.
 */
export function workerRunner(module: URL | string, opts: WorkerRunnerOptions = {}): TrainingRunner {
  const graceMs = opts.graceMs ?? 10_000;
  return (job: TrainingJob, run: RunOptions): Promise<TrainingResult> =>
    new Promise<TrainingResult>((resolve, reject) => {
      const worker = new Worker(new URL("./training_worker.ts", import.meta.url), {
        type: "module",
      });
      const cancel = new Int32Array(new SharedArrayBuffer(4));
      let settled = false;
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(killTimer);
        run.signal?.removeEventListener("abort", onAbort);
        worker.terminate();
        fn();
      };
      const onAbort = () => {
        Atomics.store(cancel, 0, 1);
        worker.postMessage({ type: "cancel" });
        killTimer = setTimeout(
          () =>
            finish(() =>
              reject(new TrainingRunError("AbortError", "training stopped (worker terminated)"))
            ),
          graceMs,
        );
      };
      worker.onmessage = (e: MessageEvent<TrainingWorkerReply>) => {
        const msg = e.data;
        if (msg.type === "event") {
          if (!settled) run.onEvent?.(msg.event);
        } else if (msg.type === "done") {
          finish(() => resolve(msg.result));
        } else {
          finish(() => reject(new TrainingRunError(msg.name, msg.message, msg.problem, msg.field)));
        }
      };
      worker.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        finish(() =>
          reject(new TrainingRunError("Error", `training worker crashed: ${e.message}`))
        );
      };
      if (run.signal?.aborted) {
        finish(() => reject(new TrainingRunError("AbortError", "training cancelled")));
        return;
      }
      run.signal?.addEventListener("abort", onAbort, { once: true });
      worker.postMessage(
        {
          type: "run",
          module: String(module),
          job,
          dataDir: run.dataDir,
          cancel,
        } satisfies TrainingWorkerStart,
      );
    });
}
