/**
 * Results as CSV tables: one row per checkpoint and layer of an analysis, one row per method,
 * checkpoint and layer of a training.
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { AnalysisOutput } from "./analysis.ts";
import type { TrainingResult } from "./train/types.ts";

/**
 * The table of an analysis.
 *
 * @param out a finished analysis
 * @returns CSV text with a header row
 */
export function analysisCsv(out: AnalysisOutput): string {
  const rows: unknown[][] = [[
    "step",
    "layer_index",
    "layer",
    "nhsic_x",
    "nhsic_y",
    "nhsic_x_norm",
    "nhsic_y_norm",
    "cka_x",
    "cka_y",
  ]];
  for (const cp of out.checkpoints) {
    cp.layers.forEach((l, i) =>
      rows.push([
        cp.step,
        i,
        l.name,
        l.nhsic_x,
        l.nhsic_y,
        l.nhsic_x_norm,
        l.nhsic_y_norm,
        l.cka_x,
        l.cka_y,
      ])
    );
  }
  return stringify(rows);
}

/**
 * The table of a training: epoch and test accuracy from the curve point at each step.
 *
 * @param result a finished training
 * @returns CSV text with a header row
 */
export function trainingCsv(result: TrainingResult): string {
  const rows: unknown[][] = [[
    "method",
    "step",
    "epoch",
    "layer",
    "nhsic_x",
    "nhsic_y",
    "nhsic_x_norm",
    "nhsic_y_norm",
    "test_accuracy",
  ]];
  for (const m of result.methods) {
    const byStep = new Map(m.curves.map((p) => [p.step, p]));
    for (const cp of m.analysis.checkpoints) {
      const point = byStep.get(cp.step);
      for (const l of cp.layers) {
        rows.push([
          m.method.label,
          cp.step,
          point?.epoch ?? "",
          l.name,
          l.nhsic_x,
          l.nhsic_y,
          l.nhsic_x_norm,
          l.nhsic_y_norm,
          point?.test_accuracy ?? "",
        ]);
      }
    }
  }
  return stringify(rows);
}
