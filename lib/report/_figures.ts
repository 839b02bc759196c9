/**
 * What a figure of the report is (a Vega-Lite spec rendered by lib/charts/render.ts like every
 * other chart of the service, with a title and a caption) and helpers the experiments' figures
 * share. Each experiment builds its own figures (lib/experiments/<experiment>.ts).
 *
 * Trajectories are averaged over seeds point by point: the runs of a configuration share their
 * tracking steps, so the mean of nHSIC at a step is well defined.
 *
 * @module
 */
import type { AnalysisOutput, LayerResult } from "../analysis.ts";
import type { VegaLiteSpec } from "../charts/mod.ts";
import type { RunRecord } from "../experiments/mod.ts";
import type { TrainingResult } from "../train/mod.ts";
import { stat } from "./_aggregate.ts";

/** One figure of the report. */
export interface Figure {
  /** File-name stem, e.g. "accuracy-vs-depth-mnist-mlp". */
  name: string;
  title: string;
  /** What the figure shows and how to read it (printed under it). */
  caption: string;
  experiment: string;
  spec: VegaLiteSpec;
}

/** Colour scheme of methods. */
export const METHOD_SCHEME = "tableau10";
/** Colour scheme of layers by depth (input to output). */
export const DEPTH_SCHEME = { name: "viridis", extent: [0, 0.88] };

/** The spec with its title text (and subtitle lines) replaced. */
export function retitle(spec: VegaLiteSpec, text: string, subtitle?: string[]): VegaLiteSpec {
  const t = (spec.title ?? {}) as { text?: string; subtitle?: string[] };
  return { ...spec, title: { ...t, text, ...(subtitle ? { subtitle } : {}) } };
}

/** A file-name-safe lower-case form of a string ("mnist/mlp/d5" -> "mnist-mlp-d5"). */
export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/**
 * A training result whose nHSIC values are the means over `runs` (same configuration, same
 * tracking steps), for seed-averaged trajectories. Methods and layers follow the first run.
 */
export function meanTrajectories(runs: RunRecord[]): TrainingResult {
  const base = runs[0].result;
  return {
    ...base,
    methods: base.methods.map((m) => {
      const others = runs.map((r) =>
        r.result.methods.find((o) => o.method.label === m.method.label)
      )
        .filter((x) => x !== undefined);
      const analysis: AnalysisOutput = {
        ...m.analysis,
        checkpoints: m.analysis.checkpoints.map((cp, ci) => ({
          step: cp.step,
          layers: cp.layers.map((l, li): LayerResult => {
            const at = others.map((o) => o!.analysis.checkpoints[ci]?.layers[li])
              .filter((x) => x && x.name === l.name) as LayerResult[];
            const avg = (f: (x: LayerResult) => number) => stat(at.map(f)).mean;
            return {
              name: l.name,
              nhsic_x: avg((x) => x.nhsic_x),
              nhsic_y: avg((x) => x.nhsic_y),
              nhsic_x_norm: avg((x) => x.nhsic_x_norm),
              nhsic_y_norm: avg((x) => x.nhsic_y_norm),
              cka_x: avg((x) => x.cka_x),
              cka_y: avg((x) => x.cka_y),
            };
          }),
        })),
      };
      return { ...m, analysis };
    }),
  };
}
