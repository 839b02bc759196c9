/**
 * Experiment `accuracy-vs-depth` (claim 1, and claim 2's early propagation): does layer-wise
 * accuracy saturate with depth while E2E keeps improving? MLP and conv series of several depths
 * on MNIST and Fashion-MNIST, every method variant of the paper.
 *
 * @module
 */
import { type AccuracyDepthRow, accuracyVsDepth as accuracyVsDepthSpec } from "../charts/mod.ts";
import { exceeds, fmtDiff, pairedDiff, type SeedValue, stat } from "../report/kit.ts";
import { type Block, pct } from "../report/kit.ts";
import { type Figure, retitle, slug } from "../report/kit.ts";
import { type ClaimPart, MIN_EFFECT, type UnitResult } from "../report/kit.ts";
import type { MethodSpec } from "../train/mod.ts";
import { type Config, configRuns, settingsOf } from "./_configs.ts";
import type { Experiment, SuiteDataset } from "./_experiment.ts";
import {
  accuracy,
  E2E,
  groups,
  isLayerwise,
  methodLabels,
  methodOf,
  over,
  tagsOf,
  values,
} from "./_measures.ts";
import type { ExperimentResult, RunRecord, Scale } from "./types.ts";

const NAME = "accuracy-vs-depth" as const;

/** The five method variants of the accuracy comparison. */
const ALL_METHODS: MethodSpec[] = [
  { name: "e2e" },
  { name: "layerwise", loss: "cross_entropy" },
  { name: "layerwise", loss: "similarity" },
  { name: "layerwise", loss: "supervised_contrastive" },
  { name: "sequential", loss: "cross_entropy" },
];

/** A series: one model family at several depths, on some datasets. */
interface Series {
  family: "mlp" | "conv";
  depths: number[];
  /** MLP units per block. */
  width?: number;
  /** Conv channels of the first block and of every later block. */
  channels?: [number, number];
  /** First n training images (undefined: all). */
  train?: number;
  /** Datasets of this series (default: the scale's). */
  datasets?: SuiteDataset[];
  /** Epochs of this series (default: the scale's). */
  epochs?: number;
}

const SCALES: Record<Scale, {
  datasets: SuiteDataset[];
  series: Series[];
  epochs: number;
  firstEpochPoints: number;
  methods: MethodSpec[];
}> = {
  micro: {
    datasets: ["mnist", "fashion-mnist"],
    series: [
      { family: "mlp", depths: [1, 2], width: 16, train: 128 },
      { family: "conv", depths: [1, 2], channels: [2, 4], train: 128 },
    ],
    epochs: 1,
    firstEpochPoints: 1,
    methods: ALL_METHODS,
  },
  cpu: {
    datasets: ["mnist", "fashion-mnist"],
    series: [
      { family: "mlp", depths: [1, 2, 4, 6], width: 128, train: 6000 },
      { family: "conv", depths: [1, 2, 4], channels: [8, 16], train: 4000 },
    ],
    epochs: 3,
    firstEpochPoints: 1,
    methods: ALL_METHODS,
  },
  // Claim 1 reads the smallest, the second-largest and the largest depth of a series: those are
  // the depths the long scale trains, with the paper's main comparison only (see
  // docs/experiments.md for what it leaves out).
  long: {
    datasets: ["mnist", "fashion-mnist"],
    series: [
      { family: "mlp", depths: [1, 3, 5], width: 256 },
      {
        family: "conv",
        depths: [1, 2, 4],
        channels: [8, 16],
        datasets: ["fashion-mnist"],
        epochs: 10,
      },
    ],
    epochs: 20,
    firstEpochPoints: 4,
    methods: [{ name: "e2e" }, { name: "layerwise", loss: "cross_entropy" }],
  },
  full: {
    datasets: ["mnist", "fashion-mnist"],
    series: [
      { family: "mlp", depths: [1, 2, 3, 4, 6, 8], width: 256 },
      { family: "conv", depths: [1, 2, 3, 4, 6], channels: [16, 32] },
    ],
    epochs: 20,
    firstEpochPoints: 4,
    methods: ALL_METHODS,
  },
};

function configs(scale: Scale): Config[] {
  const s = SCALES[scale];
  const out: Config[] = [];
  for (const dataset of s.datasets) {
    for (const series of s.series) {
      if (series.datasets && !series.datasets.includes(dataset)) continue;
      for (const depth of series.depths) {
        out.push({
          dataset,
          train: series.train,
          model: series.family === "mlp"
            ? { family: "mlp", depth, width: series.width }
            : { family: "conv", depth, channels: series.channels },
          epochs: series.epochs ?? s.epochs,
          firstEpochPoints: s.firstEpochPoints,
          methods: s.methods,
        });
      }
    }
  }
  return out;
}

/** Runs by series (one dataset and model family, several depths), in first-seen order. */
function series(runs: RunRecord[], sep: string): Map<string, RunRecord[]> {
  const out = new Map<string, RunRecord[]>();
  for (const r of runs) {
    const key = `${r.tags.dataset}${sep}${r.tags.model_name ?? r.tags.model}`;
    out.set(key, [...(out.get(key) ?? []), r]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Claim 1's rules

/** The units of parts 1a, 1b and 1c. */
function claim1Units(runs: RunRecord[]): { a: UnitResult[]; b: UnitResult[]; c: UnitResult[] } {
  const a: UnitResult[] = [], b: UnitResult[] = [], c: UnitResult[] = [];
  for (const [name, rs] of series(runs, " ")) {
    const byDepth = new Map<number, RunRecord[]>();
    for (const r of rs) {
      const d = Number(r.tags.depth);
      byDepth.set(d, [...(byDepth.get(d) ?? []), r]);
    }
    const depths = [...byDepth.keys()].sort((x, y) => x - y);
    if (depths.length < 2) continue;
    const dMax = depths.at(-1)!, dPrev = depths.at(-2)!, dMin = depths[0];
    const at = (d: number) => byDepth.get(d)!;
    const labels = methodLabels(at(dMax)).filter(isLayerwise);
    // Per-seed accuracy gain of a method between two depths.
    const gains = (label: string, from: number, to: number): SeedValue[] => {
      const base = new Map(values(at(from), label, accuracy).map((v) => [v.seed, v.value]));
      return values(at(to), label, accuracy).filter((v) => base.has(v.seed))
        .map((v) => ({ seed: v.seed, value: v.value - base.get(v.seed)! }));
    };
    const zero = (g: SeedValue[]) => g.map((v) => ({ seed: v.seed, value: 0 }));
    for (const label of labels) {
      const d = pairedDiff(values(at(dMax), E2E, accuracy), values(at(dMax), label, accuracy));
      a.push({
        unit: `${name}, depth ${dMax}: e2e vs ${label}`,
        holds: exceeds(d, MIN_EFFECT.accuracy),
        detail: `accuracy difference ${fmtDiff(d)}`,
      });
      const lateGain = gains(label, dPrev, dMax);
      const late = pairedDiff(lateGain, zero(lateGain));
      b.push({
        unit: `${name}: ${label}, depth ${dPrev} -> ${dMax}`,
        holds: !exceeds(late, MIN_EFFECT.accuracy),
        detail: `accuracy gain ${fmtDiff(late)}`,
      });
      const diff = pairedDiff(gains(E2E, dMin, dMax), gains(label, dMin, dMax));
      c.push({
        unit: `${name}: e2e vs ${label}, depth ${dMin} -> ${dMax}`,
        holds: exceeds(diff, MIN_EFFECT.accuracy),
        detail: `e2e gain minus layer-wise gain ${fmtDiff(diff)}`,
      });
    }
  }
  return { a, b, c };
}

const PARTS: ClaimPart[] = [
  {
    claim: 1,
    id: "1a",
    statement: "E2E is more accurate than every layer-wise method at the largest depth.",
    rule: "Unit: a series (dataset, model family) and a layer-wise method. Test: e2e accuracy " +
      "exceeds the layer-wise method's at the largest depth of the series.",
    evidence: [NAME],
    units: (runsOf) => claim1Units(runsOf(NAME)).a,
  },
  {
    claim: 1,
    id: "1b",
    statement: "Layer-wise accuracy stops improving with depth.",
    rule: "Unit: a series and a layer-wise method. Test: the method's accuracy at the largest " +
      "depth does not exceed its accuracy at the second-largest depth.",
    evidence: [NAME],
    units: (runsOf) => claim1Units(runsOf(NAME)).b,
  },
  {
    claim: 1,
    id: "1c",
    statement: "E2E gains more from depth than layer-wise training does.",
    rule: "Unit: a series and a layer-wise method. Test: e2e's accuracy gain from the smallest " +
      "to the largest depth exceeds the layer-wise method's gain (paired by seed).",
    evidence: [NAME],
    units: (runsOf) => claim1Units(runsOf(NAME)).c,
  },
];

// ---------------------------------------------------------------------------------------------
// Results: summary, tables, figures

function summarise(runs: RunRecord[]) {
  return {
    rows: groups(runs).flatMap(([group, rs]) =>
      methodLabels(rs).map((label) => ({
        group,
        dataset: tagsOf(rs).dataset,
        model: tagsOf(rs).model,
        model_name: tagsOf(rs).model_name,
        depth: tagsOf(rs).depth,
        method: label,
        accuracy: over(rs, label, (m) => m.final_test_accuracy),
        seconds: over(rs, label, (m) => m.seconds),
      }))
    ),
  };
}

function tables(e: ExperimentResult): Block[] {
  const out: Block[] = [];
  for (const [key, runs] of series(e.runs, ", ")) {
    const labels = methodLabels(runs);
    const rows = groups(runs).map(([, rs]) => [
      String(rs[0].tags.depth),
      ...labels.map((l) => pct(over(rs, l, (m) => m.final_test_accuracy))),
    ]);
    out.push(
      { type: "p", text: `Test accuracy (%, mean ± sd over ${e.seeds.length} seeds): ${key}.` },
      { type: "table", head: ["depth", ...labels], rows },
    );
  }
  return out;
}

function figures(e: ExperimentResult): Figure[] {
  return [...series(e.runs, " ")].map(([key, runs]) => {
    const rows: AccuracyDepthRow[] = [];
    for (const [, rs] of groups(runs)) {
      for (const label of methodLabels(rs)) {
        const s = stat(rs.map((r) => methodOf(r, label)?.final_test_accuracy ?? NaN));
        rows.push({
          method: label,
          depth: Number(rs[0].tags.depth),
          accuracy_mean: s.mean,
          accuracy_sd: s.sd,
        });
      }
    }
    const seeds = e.seeds.length;
    return {
      name: `accuracy-vs-depth-${slug(key)}`,
      title: `Accuracy against depth: ${key}`,
      caption: `Mean test accuracy over ${seeds} seeds against the number of blocks, ±1 sd; ` +
        "claim 1 expects the layer-wise curves to flatten while E2E's keeps rising.",
      experiment: e.name,
      spec: retitle(accuracyVsDepthSpec(rows), `Test accuracy against depth: ${key}`, [
        `Mean over ${seeds} seeds; error bars ±1 sd.`,
      ]),
    };
  });
}

/** The `accuracy-vs-depth` experiment. */
export const accuracyVsDepth: Experiment = {
  name: NAME,
  title: "Accuracy against depth",
  question: "Does layer-wise accuracy saturate with depth while E2E keeps improving?",
  claims: [1, 2],
  runs: (scale, opts = {}) => configRuns(NAME, configs(scale), scale, opts),
  settings: (scale, opts = {}) =>
    settingsOf(
      configs(scale),
      scale,
      opts,
      SCALES[scale].methods.some((m) => m.name === "sequential")
        ? [
          "Sequential training trains each block for the given number of epochs, one block " +
          "after another (depth x the epochs of the other methods).",
        ]
        : [],
    ),
  summarise,
  figures,
  parts: PARTS,
  section: (claim, e, figs) =>
    claim === 1
      ? {
        primary: true,
        measured: tables(e),
        figures: figs.filter((f) => f.name.startsWith("accuracy-vs-depth-")),
      }
      : null,
};
