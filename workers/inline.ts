/**
 * The serverless mode's task pool: the analysis tasks of workers/analysis_worker.ts (read a
 * request body, run an analysis), run in this isolate instead of Web Workers, one at a time, on
 * the portable TypeScript linear algebra (no FFI). An analysis blocks the isolate while it runs
 * (estimator tasks check for cancellation in between), which is what serverless platforms expect
 * of a request or a queue message; large ones go through the KV queue and run in a queue handler.
 *
 * @module
 */
import { analyseDump, type AnalysisOutput } from "../lib/analysis.ts";
import { type AnalysisSubmission, readAnalysisRequest } from "../lib/analysis_request.ts";
import { parseNpzDump } from "../lib/dump/mod.ts";
import { portableLinalg } from "../lib/linalg/mod.ts";
import type { AnalyseTask, ReadTask } from "./analysis_worker.ts";
import { CancelledError, type RunOptions, TaskError, type TaskPool } from "./pool.ts";

/** Runs one kind of task in this isolate, one at a time, in order. */
class InlinePool<I, O> implements TaskPool<I, O> {
  readonly size = 1;
  #running = 0;
  #waiting = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(readonly handler: (input: I, opts: RunOptions) => Promise<O>) {}

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting;
  }

  run(input: I, opts: RunOptions = {}): Promise<O> {
    if (this.#closed) return Promise.reject(new Error("task pool is closed"));
    this.#waiting++;
    const task = this.#chain.then(async () => {
      this.#waiting--;
      if (this.#closed || opts.signal?.aborted) throw new TaskError("cancelled", "cancelled");
      this.#running++;
      try {
        return await this.handler(input, opts);
      } catch (err) {
        if (err instanceof CancelledError) throw new TaskError("cancelled", "cancelled");
        const e = err as { message?: string; problem?: string; field?: string };
        throw new TaskError(e?.message ?? String(err), e?.problem, e?.field);
      } finally {
        this.#running--;
      }
    });
    this.#chain = task.catch(() => {});
    return task;
  }

  async shutdown(graceMs = 10_000): Promise<boolean> {
    this.#closed = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#chain, new Promise((ok) => timer = setTimeout(ok, graceMs))]);
    clearTimeout(timer);
    return false; // nothing runs outside this isolate's event loop
  }

  close(): void {
    this.#closed = true;
  }
}

/** A progress hook that stops the (synchronous) analysis once `signal` is aborted. */
function cancelCheck(signal?: AbortSignal): () => void {
  return () => {
    if (signal?.aborted) throw new CancelledError();
  };
}

/** Analyses in this isolate, on the portable linear algebra. */
export function inlineAnalysisPool(): TaskPool<AnalyseTask, AnalysisOutput> {
  return new InlinePool<AnalyseTask, AnalysisOutput>((task, opts) => {
    const dump = "dump" in task
      ? task.dump
      : "bytes" in task
      ? parseNpzDump(task.bytes, "dump")
      : (() => {
        throw new Error("serverless analyses read their input from the store, not from files");
      })();
    const check = cancelCheck(opts.signal);
    return Promise.resolve(analyseDump(dump, task.config, {
      linalg: portableLinalg,
      ...task.options,
      onProgress: (done, total) => {
        check();
        opts.onProgress?.(done, total);
      },
    }));
  });
}

/** Request bodies read in this isolate. */
export function inlineReadPool(): TaskPool<ReadTask, AnalysisSubmission> {
  return new InlinePool<ReadTask, AnalysisSubmission>((task) =>
    readAnalysisRequest(task.body, task.contentType, task)
  );
}
