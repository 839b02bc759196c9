/// <reference lib="deno.worker" />
/**
 * Web Worker entry of the analysis pools. Two operations:
 * - `read`: a raw request body into a validated submission (the dump moved back to the host,
 *   or its .npz when it is to be queued), so that parsing never holds up the HTTP event loop;
 * - `analyse`: a dump (moved in), or the .npz of a queued one (a file, or its bytes), through
 *   the estimator, the requested measures and the summaries, checking for cancellation after
 *   every estimator task.
 *
 * @module
 */
import { analyseDump, type AnalysisOutput } from "../lib/analysis.ts";
import {
  type AnalysisSubmission,
  readAnalysisRequest,
  type ReadOptions,
} from "../lib/analysis_request.ts";
import { type Dump, dumpBuffers, parseNpzDump } from "../lib/dump/mod.ts";
import { getLinalg, type OpenBlasLinalg } from "../lib/linalg/mod.ts";
import type { AnalysisRequest } from "../lib/measures/mod.ts";
import type { EstimatorConfig } from "../lib/nhsic/mod.ts";
import { serveTasks, Transfer } from "./pool.ts";

/** An analysis to run: the estimator, the request fields and the dump in one of three forms. */
export type AnalyseTask =
  & {
    op: "analyse";
    config: EstimatorConfig;
    options: AnalysisRequest;
    /**
     * OpenBLAS threads for this task (process-wide: cores / workers avoids oversubscription);
     * 0 leaves the count alone (OPENBLAS_NUM_THREADS set by the user). See lib/linalg/threads.ts.
     */
    threads: number;
  }
  & ({ dump: Dump } | { path: string } | { bytes: Uint8Array });

/** A request body to read. */
export interface ReadTask extends ReadOptions {
  op: "read";
  body: Uint8Array;
  contentType: string;
}

/** What the pools send. */
export type AnalysisTask = AnalyseTask | ReadTask;

/** What they answer. */
export type AnalysisReply = AnalysisOutput | AnalysisSubmission;

serveTasks<AnalysisTask, AnalysisReply>(async (task, ctx) => {
  if (task.op === "read") {
    const sub = await readAnalysisRequest(task.body, task.contentType, task);
    return new Transfer(
      sub,
      sub.run.queue ? [sub.run.npz.buffer as ArrayBuffer] : dumpBuffers(sub.run.dump),
    );
  }
  const dump = "dump" in task
    ? task.dump
    : parseNpzDump("path" in task ? await Deno.readFile(task.path) : task.bytes, "dump");
  const linalg = getLinalg();
  if (task.threads > 0) (linalg as Partial<OpenBlasLinalg>).setThreads?.(task.threads);
  return analyseDump(dump, task.config, {
    linalg,
    ...task.options,
    onProgress: (done, total) => {
      ctx.checkCancelled();
      ctx.progress(done, total);
    },
  });
});
