/**
 * An analysis: the nHSIC table of a dump, normalised values and the summaries, with the exact
 * estimator configuration recorded so that results stay comparable.
 */
import type { Dump } from "./dump/types.ts";
import type { Linalg } from "./linalg/types.ts";
import type { EstimatorConfig } from "./nhsic/config.ts";
import { measureDump } from "./nhsic/measure.ts";
import { summarise, type Summary } from "./summary.ts";

/** One layer at one checkpoint, as returned to users. */
export interface LayerResult {
  name: string;
  nhsic_x: number;
  nhsic_y: number;
  /** nhsic_x / nHSIC(X;X). */
  nhsic_x_norm: number;
  /** nhsic_y / nHSIC(Y;Y). */
  nhsic_y_norm: number;
  cka_x: number;
  cka_y: number;
}

/** The science part of an analysis result (ids and status are added by the service). */
export interface AnalysisOutput {
  m: number;
  num_classes: number;
  estimator: EstimatorConfig & { batches: number; samples_used: number };
  reference: { nhsic_x_x: number; nhsic_y_y: number };
  checkpoints: Array<{ step: number; layers: LayerResult[] }>;
  summary: Summary;
  compute: { linalg: string; seconds: number };
}

/** Runs the estimator over a dump and summarises the result. */
export function analyseDump(
  dump: Dump,
  cfg: EstimatorConfig,
  opts: { linalg: Linalg; onProgress?: (done: number, total: number) => void },
): AnalysisOutput {
  const t0 = performance.now();
  const table = measureDump(dump, cfg, opts);
  const { nhsic_x_x: xx, nhsic_y_y: yy } = table.reference;
  const checkpoints = table.checkpoints.map((cp) => ({
    step: cp.step,
    layers: cp.layers.map((l) => ({
      name: l.name,
      nhsic_x: l.nhsic_x,
      nhsic_y: l.nhsic_y,
      nhsic_x_norm: l.nhsic_x / xx,
      nhsic_y_norm: l.nhsic_y / yy,
      cka_x: l.cka_x,
      cka_y: l.cka_y,
    })),
  }));
  return {
    m: table.m,
    num_classes: dump.numClasses,
    estimator: { ...cfg, batches: table.batches, samples_used: table.samples_used },
    reference: table.reference,
    checkpoints,
    summary: summarise({ reference: table.reference, checkpoints }),
    compute: { linalg: opts.linalg.name, seconds: (performance.now() - t0) / 1000 },
  };
}
