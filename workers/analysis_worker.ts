/// <reference lib="deno.worker" />
/**
 * Web Worker entry that runs one analysis at a time: a dump (transferred), or the .npz of a
 * queued one (a file, or its bytes), through the estimator and the summaries. It checks for
 * cancellation after every estimator task.
 *
 * @module
 */
import { analyseDump, type AnalysisOutput } from "../lib/analysis.ts";
import { parseNpzDump } from "../lib/dump/mod.ts";
import type { Dump } from "../lib/dump/types.ts";
import { getLinalg, type OpenBlasLinalg } from "../lib/linalg/mod.ts";
import type { EstimatorConfig } from "../lib/nhsic/config.ts";
import { serveTasks } from "./pool.ts";

/** What the pool sends: the estimator settings and the dump in one of three forms. */
export type AnalysisTask =
  & {
    config: EstimatorConfig;
    /**
     * OpenBLAS threads for this task (process-wide: cores / workers avoids oversubscription);
     * 0 leaves the count alone (OPENBLAS_NUM_THREADS set by the user). See lib/linalg/threads.ts.
     */
    threads: number;
  }
  & ({ dump: Dump } | { path: string } | { bytes: Uint8Array });

serveTasks<AnalysisTask, AnalysisOutput>(async (task, ctx) => {
  const dump = "dump" in task
    ? task.dump
    : parseNpzDump("path" in task ? await Deno.readFile(task.path) : task.bytes, "dump");
  const linalg = getLinalg();
  if (task.threads > 0) (linalg as Partial<OpenBlasLinalg>).setThreads?.(task.threads);
  return analyseDump(dump, task.config, {
    linalg,
    onProgress: (done, total) => {
      ctx.checkCancelled();
      ctx.progress(done, total);
    },
  });
});
