/**
 * The runner of each job kind: where its compute runs. Analyses run on the shared Web Worker
 * pool (estimator tasks are short and many); trainings and experiment suites each get a Web
 * Worker of their own (long, cancellable, killable without touching other jobs). Adding a kind
 * means adding its types (workers/types.ts) and its runner here.
 *
 * @module
 */
import type { AnalysisOutput } from "../lib/analysis.ts";
import type { AnalyseTask } from "./analysis_worker.ts";
import type { JobWorkerReply, JobWorkerStart } from "./job_worker.ts";
import { TaskError, type TaskPool } from "./pool.ts";
import type { JobEvent, RunnerRegistry } from "./types.ts";

/** What the runners need. */
export interface RunnerOptions {
  /** The analysis pool (one per process). */
  pool: TaskPool<AnalyseTask, AnalysisOutput>;
  /** OpenBLAS threads per analysis task (0: leave alone); see lib/linalg/threads.ts. */
  analysisThreads: number;
  /** Module exporting `runTraining` (lib/train/run.ts, or a test stand-in). */
  trainingModule: string;
  /** After a cancel, how long a job may take to reach its next step before its worker is killed. */
  cancelGraceMs: number;
}

/** The module of experiment jobs (lib/experiments/job.ts). */
export const EXPERIMENT_MODULE = new URL("../lib/experiments/job.ts", import.meta.url).href;

/** The runners of every kind. */
export function createRunners(opts: RunnerOptions): RunnerRegistry {
  return {
    analysis: async (ctx) => {
      const input = await ctx.input();
      if (!input) throw new Error("the dump of this analysis is gone");
      return await opts.pool.run(
        {
          op: "analyse",
          ...input,
          config: ctx.record.request.estimator,
          options: ctx.record.request.options,
          threads: opts.analysisThreads,
        },
        { onProgress: (done, total) => ctx.progress({ done, total }), signal: ctx.signal },
      );
    },
    training: async (ctx) => {
      let job = ctx.record.request;
      let temp: string | null = null;
      if (job.dataset.name === "upload") {
        const input = await ctx.input();
        if (!input) throw new Error("the uploaded dataset of this job is gone");
        let path: string;
        if ("path" in input) path = input.path;
        else {
          // In-memory storage keeps the upload in KV; the training reads a file.
          try {
            path = temp = await Deno.makeTempFile({ prefix: "infoplane-upload-", suffix: ".npz" });
            await Deno.writeFile(temp, input.bytes);
          } catch (e) {
            throw new Error(
              "an uploaded dataset is read from a file, and this process cannot write one " +
                `(${(e as Error).message.split("\n")[0]}); use a built-in dataset here`,
            );
          }
        }
        job = { ...job, dataset: { ...job.dataset, path } };
      }
      try {
        return await inWorker(opts.trainingModule, "runTraining", job, ctx, opts.cancelGraceMs);
      } finally {
        if (temp) await Deno.remove(temp).catch(() => {});
      }
    },
    experiment: (ctx) =>
      inWorker(
        EXPERIMENT_MODULE,
        "runExperimentSuite",
        ctx.record.request,
        ctx,
        opts.cancelGraceMs,
      ),
  };
}

/** An error that crossed the worker boundary, with the input problem kind when there was one. */
export class JobRunError extends Error {
  constructor(name: string, message: string, readonly problem?: string, readonly field?: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Runs `module`'s `exportName` on `input` in a fresh Web Worker. Aborting `ctx.signal` asks the
 * job to stop at its next step and terminates the worker if it has not stopped within `graceMs`.
 *
 * @param module URL of the module
 * @param exportName the function to call
 * @param input its first argument
 * @param ctx the job's context (events, signal, data dir)
 * @param graceMs how long a cancelled job may take to stop by itself
 * @returns what the function resolved with
 */
export function inWorker<R>(
  module: string,
  exportName: string,
  input: unknown,
  ctx: { dataDir: string; signal: AbortSignal; emit(event: JobEvent): void },
  graceMs: number,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const worker = new Worker(new URL("./job_worker.ts", import.meta.url), { type: "module" });
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    let settled = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(killTimer);
      ctx.signal.removeEventListener("abort", onAbort);
      worker.terminate();
      fn();
    };
    const onAbort = () => {
      Atomics.store(cancel, 0, 1);
      worker.postMessage({ type: "cancel" });
      killTimer = setTimeout(
        () =>
          finish(() => reject(new JobRunError("AbortError", "job stopped (worker terminated)"))),
        graceMs,
      );
    };
    worker.onmessage = (e: MessageEvent<JobWorkerReply>) => {
      const msg = e.data;
      if (msg.type === "event") {
        if (!settled) ctx.emit(msg.event as JobEvent);
      } else if (msg.type === "done") {
        finish(() => resolve(msg.result as R));
      } else {
        finish(() => reject(new JobRunError(msg.name, msg.message, msg.problem, msg.field)));
      }
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      finish(() => reject(new JobRunError("Error", `job worker crashed: ${e.message}`)));
    };
    if (ctx.signal.aborted) {
      finish(() => reject(new JobRunError("AbortError", "job cancelled")));
      return;
    }
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    worker.postMessage(
      {
        type: "run",
        module,
        exportName,
        input,
        dataDir: ctx.dataDir,
        cancel,
      } satisfies JobWorkerStart,
    );
  });
}

/** The error of a failed attempt as kept in the record. */
export function errorInfo(err: unknown): { message: string; problem?: string; field?: string } {
  if (err instanceof TaskError || err instanceof JobRunError) {
    return { message: err.message, problem: err.problem, field: err.field };
  }
  const e = err as { message?: string; problem?: string; field?: string };
  const out: { message: string; problem?: string; field?: string } = {
    message: e?.message ?? String(err),
  };
  if (typeof e?.problem === "string") out.problem = e.problem;
  if (typeof e?.field === "string") out.field = e.field;
  return out;
}
