/**
 * The estimator sweep: does a verdict depend on how nHSIC is estimated? At every tracking point of
 * a run that asks for it (ProbeSpec `estimator_sweep`), the activations of every tracked layer on
 * the tracking's probe samples are measured again with lib/nhsic's estimator under each setting of
 * {@link ESTIMATOR_SWEEP}: squared and plain distance in the Gaussian kernel, sigma 1, 5 and the
 * median heuristic, mini-batches of 128 and 512 samples (all other fields the tracking's
 * defaults). Only the numbers are kept, not the activations: a setting outside this list needs a
 * new run. Cost, measured on the 2-core development machine: about 1 s per tracking point for the
 * twelve settings (a 5-block MLP of width 256 or a 4-block conv net, 512 probe samples), and about
 * 3 kB of JSON per tracking point.
 *
 * {@link sweptRuns} turns the kept numbers back into runs whose analyses are those of one
 * setting, so that the experiments' claim rules apply to them unchanged.
 *
 * @module
 */
import type { AnalysisOutput } from "../analysis.ts";
import type { Dump } from "../dump/mod.ts";
import type { Linalg } from "../linalg/mod.ts";
import { DEFAULT_ESTIMATOR, type EstimatorConfig } from "../nhsic/mod.ts";
import { batchRanges, measureDump } from "../nhsic/mod.ts";
import { summarise } from "../summary.ts";
import type { MethodResult } from "../train/mod.ts";
import { probesOf } from "./_measures.ts";
import type { RunRecord, SweepSetting, SweepValues } from "./types.ts";

function setting(
  base: EstimatorConfig,
  distance: "squared" | "plain",
  sigma: number | "median",
  m: number,
): SweepSetting {
  const s = sigma === "median" ? "median" : `s${sigma}`;
  return {
    id: `${distance}-${s}-m${m}`,
    label: `${distance} distance, sigma ${sigma === "median" ? "median" : sigma}, m ${m}`,
    estimator: { ...base, distance, sigma, batch_size: m },
  };
}

/**
 * The settings of the sweep, distance x sigma x mini-batch size (12), every other field from
 * `base` (the tracking's estimator).
 */
export function sweepSettings(base: EstimatorConfig = DEFAULT_ESTIMATOR): SweepSetting[] {
  return (["squared", "plain"] as const).flatMap((d) =>
    ([1, 5, "median"] as const).flatMap((s) => [128, 512].map((m) => setting(base, d, s, m)))
  );
}

/** The sweep in words, for the settings of the experiments that run it. */
export const SWEEP_WORDS = "Estimator sweep: at every tracking point, nHSIC(X;T_l) and " +
  "nHSIC(Y;T_l) of every layer are measured again on the same probe samples under squared and " +
  "plain distance, sigma 1, 5 and the median heuristic, and mini-batches of 128 and 512 samples " +
  "(lib/experiments/_sweep.ts).";

/** The sweep around the default estimator. */
export const ESTIMATOR_SWEEP: readonly SweepSetting[] = Object.freeze(sweepSettings());

/** Six significant digits: the sweep's numbers are kept in results.json. */
function round(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
}

/**
 * nHSIC(X;T_l) and nHSIC(Y;T_l) of every layer of one tracking point under each setting.
 * `layers` are the activations on the probe samples (n rows each), `x` the probe inputs.
 */
export function measureSweep(
  x: { rows: number; cols: number; data: Float32Array },
  labels: Int32Array,
  numClasses: number,
  layers: Array<{ name: string; cols: number; data: Float32Array }>,
  linalg: Linalg,
  settings: readonly SweepSetting[] = ESTIMATOR_SWEEP,
): Record<string, SweepValues> {
  const dump: Dump = {
    x,
    labels,
    classes: numClasses,
    numClasses,
    checkpoints: [{
      step: 0,
      layers: layers.map((a) => ({
        name: a.name,
        values: { rows: x.rows, cols: a.cols, data: a.data },
      })),
    }],
  };
  const out: Record<string, SweepValues> = {};
  for (const s of settings) {
    const t = measureDump(dump, s.estimator, { linalg });
    out[s.id] = {
      xx: round(t.reference.nhsic_x_x),
      yy: round(t.reference.nhsic_y_y),
      x: t.checkpoints[0].layers.map((l) => round(l.nhsic_x)),
      y: t.checkpoints[0].layers.map((l) => round(l.nhsic_y)),
    };
  }
  return out;
}

/** A method's analysis rebuilt from its sweep values under one setting (null without them). */
function sweptAnalysis(
  run: RunRecord,
  m: MethodResult,
  s: SweepSetting,
): AnalysisOutput | null {
  const points = probesOf(run, m.method.label);
  if (points.length === 0 || points.some((p) => !p.sweep?.[s.id])) return null;
  const first = points[0].sweep![s.id];
  const reference = { nhsic_x_x: first.xx, nhsic_y_y: first.yy };
  const checkpoints = points.map((p) => {
    const v = p.sweep![s.id];
    return {
      step: p.step,
      layers: p.layers.map((l, i) => ({
        name: l.name,
        nhsic_x: v.x[i],
        nhsic_y: v.y[i],
        nhsic_x_norm: v.x[i] / reference.nhsic_x_x,
        nhsic_y_norm: v.y[i] / reference.nhsic_y_y,
        cka_x: NaN,
        cka_y: NaN,
      })),
    };
  });
  return {
    ...m.analysis,
    estimator: {
      ...s.estimator,
      batches: batchRanges(m.analysis.m, s.estimator.batch_size).length,
      samples_used: m.analysis.estimator.samples_used,
    },
    reference,
    checkpoints,
    summary: summarise({ reference, checkpoints }),
  };
}

/**
 * The runs that kept a sweep, with every method's analysis replaced by the one of setting `s`
 * (same tracking points, same probe samples); runs without a sweep are left out.
 */
export function sweptRuns(runs: RunRecord[], s: SweepSetting): RunRecord[] {
  return runs.flatMap((r) => {
    if (!r.sweep_settings?.some((x) => x.id === s.id)) return [];
    const methods = r.result.methods.map((m) => {
      const analysis = sweptAnalysis(r, m, s);
      return analysis ? { ...m, analysis } : null;
    });
    if (methods.some((m) => m === null)) return [];
    return [{ ...r, result: { ...r.result, methods: methods as MethodResult[] } }];
  });
}
