/// <reference lib="deno.worker" />
/**
 * Web Worker entry that runs one analysis at a time: a dump (transferred) or a queued dump file,
 * through the estimator and the summaries. Progress is throttled to a few messages a second.
 */
import { analyseDump, type AnalysisOutput } from "../lib/analysis.ts";
import { parseNpzDump } from "../lib/dump/mod.ts";
import type { Dump } from "../lib/dump/types.ts";
import { InputError } from "../lib/errors.ts";
import { getLinalg } from "../lib/linalg/mod.ts";
import type { EstimatorConfig } from "../lib/nhsic/config.ts";
import type { WorkerReply } from "./pool.ts";

/** What the pool sends: the dump itself, or the path of an .npz file holding it. */
export interface AnalysisTask {
  config: EstimatorConfig;
  dump?: Dump;
  path?: string;
}

function reply(msg: WorkerReply<AnalysisOutput>) {
  self.postMessage(msg);
}

self.onmessage = async (e: MessageEvent<AnalysisTask>) => {
  try {
    const task = e.data;
    const dump = task.dump ?? parseNpzDump(await Deno.readFile(task.path!), "dump");
    let last = 0;
    const value = analyseDump(dump, task.config, {
      linalg: getLinalg(),
      onProgress: (done, total) => {
        const now = performance.now();
        if (now - last > 200 || done === total) {
          last = now;
          reply({ type: "progress", done, total });
        }
      },
    });
    reply({ type: "done", value });
  } catch (err) {
    if (err instanceof InputError) {
      reply({ type: "error", message: err.message, problem: err.problem, field: err.field });
    } else {
      reply({ type: "error", message: err instanceof Error ? err.message : String(err) });
    }
  }
};
