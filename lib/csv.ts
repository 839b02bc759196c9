/**
 * Results as CSV tables: one row per checkpoint and layer of an analysis, one row per method,
 * checkpoint and layer of a training.
 *
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { AnalysisOutput, LayerResult } from "./analysis.ts";
import { measureField } from "./measures/mod.ts";
import type { TrainingResult } from "./train/mod.ts";

/**
 * The CSV of an analysis: one row per checkpoint and layer with every per-layer value. Columns:
 * step, [checkpoint (when the dump named its checkpoints)], layer_index, layer, nhsic_x, nhsic_y,
 * nhsic_x_norm, nhsic_y_norm, cka_x, cka_y, then `<measure>_x`, `<measure>_y` of each further
 * measure in request order. A default analysis gives exactly the columns it always had.
 *
 * @example Usage
 * ```ts ignore
 * const csv = analysisCsv(output);
 * csv.split("\n")[0]; // "step,layer_index,layer,nhsic_x,nhsic_y,nhsic_x_norm,nhsic_y_norm,cka_x,cka_y"
 * ```
 *
 * @param out The analysis.
 * @returns CSV text with a header row (RFC 4180 quoting, "\n" line ends).
 */
export function analysisCsv(out: AnalysisOutput): string {
  const named = out.checkpoints.some((cp) => cp.name !== undefined);
  const extra = (out.measures?.names ?? [])
    .filter((m) => m !== "nhsic" && m !== "cka_linear")
    .flatMap((m) => [`${measureField(m)}_x`, `${measureField(m)}_y`]) as Array<keyof LayerResult>;
  const base = [
    "nhsic_x",
    "nhsic_y",
    "nhsic_x_norm",
    "nhsic_y_norm",
    "cka_x",
    "cka_y",
  ] as const;
  const rows: unknown[][] = [[
    "step",
    ...(named ? ["checkpoint"] : []),
    "layer_index",
    "layer",
    ...base,
    ...extra,
  ]];
  for (const cp of out.checkpoints) {
    cp.layers.forEach((l, i) =>
      rows.push([
        cp.step,
        ...(named ? [cp.name ?? ""] : []),
        i,
        l.name,
        ...base.map((k) => l[k]),
        ...extra.map((k) => l[k]),
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
