/// <reference lib="deno.worker" />
/**
 * Web Worker entry that runs one analysis at a time: a dump (transferred) or a queued dump file,
 * through the estimator and the summaries. It checks for cancellation after every layer.
 */
import { analyseDump, type AnalysisOutput } from "../lib/analysis.ts";
import { parseNpzDump } from "../lib/dump/mod.ts";
import type { Dump } from "../lib/dump/types.ts";
import { getLinalg } from "../lib/linalg/mod.ts";
import type { EstimatorConfig } from "../lib/nhsic/config.ts";
import { serveTasks } from "./pool.ts";

/** What the pool sends: the dump itself, or the path of an .npz file holding it. */
export interface AnalysisTask {
  config: EstimatorConfig;
  dump?: Dump;
  path?: string;
}

serveTasks<AnalysisTask, AnalysisOutput>(async (task, ctx) => {
  const dump = task.dump ?? parseNpzDump(await Deno.readFile(task.path!), "dump");
  return analyseDump(dump, task.config, {
    linalg: getLinalg(),
    onProgress: (done, total) => {
      ctx.checkCancelled();
      ctx.progress(done, total);
    },
  });
});
