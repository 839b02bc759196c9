/**
 * Experiment `toy` (claim 2): when the label is the XOR of two input signs and a noisy shortcut
 * is available, does greedy layer-wise training drop the XOR features at a bottleneck while E2E
 * keeps them? The data and the network are in lib/experiments/_toy_data.ts.
 *
 * @module
 */
import { CHART_CONFIG, STEP_TITLE, VEGA_LITE_SCHEMA, type VegaLiteSpec } from "../charts/mod.ts";
import { exceeds, fmtDiff, fmtStat, pairedDiff, stat } from "../report/kit.ts";
import { type Block, pct } from "../report/kit.ts";
import { DEPTH_SCHEME, type Figure } from "../report/kit.ts";
import { type ClaimPart, MIN_EFFECT, type UnitResult } from "../report/kit.ts";
import type { TrainingRequest } from "../train/mod.ts";
import type { MethodResult, MethodSpec } from "../train/mod.ts";
import { BASE, baseWords, methodWords, seedsOf } from "./_configs.ts";
import type { Experiment, RunOptions } from "./_experiment.ts";
import {
  accuracy,
  E2E,
  finalProbe,
  isLayerwise,
  methodLabels,
  over,
  probesOf,
  values,
} from "./_measures.ts";
import { toyModel } from "./_toy_data.ts";
import { trajectoryFigures } from "./_trajectories.ts";
import type { ExperimentResult, RunRecord, Scale } from "./types.ts";

const NAME = "toy" as const;

const SIZES: Record<Scale, { train: number; test: number; width: number; epochs: number }> = {
  micro: { train: 256, test: 64, width: 8, epochs: 2 },
  cpu: { train: 4000, test: 1000, width: 32, epochs: 20 },
  long: { train: 20000, test: 5000, width: 64, epochs: 40 },
  full: { train: 20000, test: 5000, width: 64, epochs: 40 },
};

const METHODS: MethodSpec[] = [
  { name: "e2e" },
  { name: "layerwise", loss: "cross_entropy" },
  { name: "sequential", loss: "cross_entropy" },
];

/** Seed of a toy run's data: fixed offset from the training seed, so seeds also resample data. */
export function toyDataSeed(seed: number): number {
  return 1000 + seed;
}

function request(scale: Scale, seed: number, opts: RunOptions): TrainingRequest {
  const t = SIZES[scale], b = BASE[scale];
  return {
    model: toyModel(t.width) as TrainingRequest["model"],
    dataset: { name: "upload", path: "(in-memory toy data)" },
    methods: METHODS,
    optimizer: { lr: b.lr, batch_size: b.batch, epochs: t.epochs, weight_decay: 0 },
    tracking: {
      probe_size: Math.min(b.probe_size, t.test),
      probe_batch: b.probe_batch,
      first_epoch_points: 2,
      linear_probe: false,
    },
    seed,
    backend: opts.backend ?? "auto",
  };
}

// ---------------------------------------------------------------------------------------------
// Claim 2b's rule

function greedyUnits(toy: RunRecord[]): UnitResult[] {
  const uFirst = (m: MethodResult, r: RunRecord) =>
    finalProbe(r, m.method.label)?.layers[0]?.nhsic_u_norm ?? NaN;
  return methodLabels(toy).filter(isLayerwise).map((label) => {
    const du = pairedDiff(values(toy, E2E, uFirst), values(toy, label, uFirst));
    const da = pairedDiff(values(toy, E2E, accuracy), values(toy, label, accuracy));
    return {
      unit: `toy: e2e vs ${label}`,
      holds: exceeds(du, MIN_EFFECT.nhsic) && exceeds(da, MIN_EFFECT.accuracy),
      detail: `nHSIC(U;T_fc1)/nHSIC(U;U) difference ${fmtDiff(du)}; accuracy difference ` +
        fmtDiff(da),
    };
  });
}

const PARTS: ClaimPart[] = [{
  claim: 2,
  id: "2b",
  statement: "In the toy, greedy training discards input information that a later layer needs.",
  rule: "Unit: a greedy method of the toy experiment. Test: at the end of training, e2e's " +
    "nHSIC(U;T_fc1)/nHSIC(U;U) at the bottleneck (U = the two XOR features) exceeds the " +
    "greedy method's, and e2e's test accuracy exceeds the greedy method's.",
  evidence: [NAME],
  units: (runsOf) => greedyUnits(runsOf(NAME)),
}];

// ---------------------------------------------------------------------------------------------
// Results: summary, tables, figures

function summarise(runs: RunRecord[]) {
  return {
    methods: methodLabels(runs).map((label) => {
      const names = finalProbe(runs[0], label)?.layers.map((l) => l.name) ?? [];
      return {
        label,
        accuracy: over(runs, label, (m) => m.final_test_accuracy),
        layers: names.map((name, i) => ({
          name,
          nhsic_u_norm: stat(runs.map((r) => finalProbe(r, label)?.layers[i].nhsic_u_norm ?? NaN)),
          nhsic_e_norm: stat(runs.map((r) => finalProbe(r, label)?.layers[i].nhsic_e_norm ?? NaN)),
          final_y: over(runs, label, (m) => m.analysis.summary.layers[i]?.final_y ?? NaN),
        })),
      };
    }),
  };
}

function table(e: ExperimentResult): Block[] {
  const labels = methodLabels(e.runs);
  const uAt = (r: RunRecord, label: string, i: number, f: "nhsic_u_norm" | "nhsic_e_norm") =>
    finalProbe(r, label)?.layers[i]?.[f] ?? NaN;
  const names = finalProbe(e.runs[0], labels[0])?.layers.map((l) => l.name) ?? [];
  const rows = labels.map((label) => [
    label,
    pct(over(e.runs, label, (m) => m.final_test_accuracy)),
    ...names.flatMap((_, i) => [
      fmtStat(stat(e.runs.map((r) => uAt(r, label, i, "nhsic_u_norm")))),
    ]),
    fmtStat(stat(e.runs.map((r) => uAt(r, label, 0, "nhsic_e_norm")))),
  ]);
  return [
    {
      type: "p",
      text: `Toy at the end of training (mean ± sd over ${e.seeds.length} seeds): test accuracy ` +
        "and nHSIC(U;T_l)/nHSIC(U;U) of each layer (U = the two XOR features), and the " +
        "bottleneck's nHSIC(E;T_fc1)/nHSIC(E;E) (E = the shortcut).",
    },
    {
      type: "table",
      head: ["method", "accuracy (%)", ...names.map((n) => `U;${n}`), "E;fc1"],
      rows,
    },
  ];
}

function figures(e: ExperimentResult): Figure[] {
  const rows: Array<Record<string, unknown>> = [];
  const labels = methodLabels(e.runs);
  const layers = finalProbe(e.runs[0], labels[0])?.layers.map((l) => l.name) ?? [];
  for (const label of labels) {
    const perSeed = e.runs.map((r) => probesOf(r, label));
    const steps = perSeed[0]?.map((p) => p.step) ?? [];
    steps.forEach((step, si) => {
      layers.forEach((layer, li) => {
        for (
          const [field, name] of [["nhsic_u_norm", "U = (u, v): the XOR features"], [
            "nhsic_e_norm",
            "E = e: the shortcut",
          ]] as const
        ) {
          const s = stat(perSeed.map((ps) => ps[si]?.layers[li]?.[field] ?? NaN));
          rows.push({ method: label, step, layer, depth: li + 1, of: name, value: s.mean });
        }
      });
    });
  }
  const spec: VegaLiteSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: "Toy: what each layer keeps of the XOR features and of the shortcut",
      subtitle: [
        `nHSIC(U;T_l)/nHSIC(U;U) (top) and nHSIC(E;T_l)/nHSIC(E;E) (bottom), mean over ` +
        `${e.runs.length} seeds; fc1 is the 3-unit bottleneck.`,
      ],
    },
    config: CHART_CONFIG,
    data: { values: rows },
    facet: {
      row: {
        field: "of",
        type: "nominal",
        sort: ["U = (u, v): the XOR features", "E = e: the shortcut"],
        header: { title: null },
      },
      column: { field: "method", type: "nominal", sort: labels, header: { title: null } },
    },
    spec: {
      width: 230,
      height: 150,
      layer: [
        {
          mark: { type: "line", strokeWidth: 2 },
          encoding: {
            x: { field: "step", type: "quantitative", title: STEP_TITLE, axis: { format: ",d" } },
            y: { field: "value", type: "quantitative", title: "normalised nHSIC" },
            color: {
              field: "layer",
              type: "ordinal",
              sort: layers,
              scale: { domain: layers, scheme: DEPTH_SCHEME },
              legend: { title: "layer (input → output)" },
            },
          },
        },
        {
          mark: { type: "point", filled: true, size: 18 },
          encoding: {
            x: { field: "step", type: "quantitative" },
            y: { field: "value", type: "quantitative" },
            color: {
              field: "layer",
              type: "ordinal",
              sort: layers,
              scale: { domain: layers, scheme: DEPTH_SCHEME },
            },
            tooltip: [
              { field: "method" },
              { field: "layer" },
              { field: "step", type: "quantitative" },
              { field: "value", type: "quantitative", format: ".3f" },
            ],
          },
        },
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
  return [
    {
      name: "toy-features",
      title: "Toy: dependence on the XOR features and on the shortcut",
      caption: "Greedy training should drive the bottleneck's dependence on U down (it keeps " +
        "the shortcut E instead); E2E should keep it, and the wide layers after it can then " +
        "compute the XOR.",
      experiment: e.name,
      spec,
    },
    ...trajectoryFigures(
      e,
      "toy",
      "nHSIC(X;T) here is the dependence on all three inputs (e, u, v).",
    ).filter((f) => f.name.startsWith("toy-plane")),
  ];
}

/** The `toy` experiment. */
export const toy: Experiment = {
  name: NAME,
  title: "Toy: greedy training discards what a later layer needs",
  question:
    "When the label is the XOR of two input signs and a noisy shortcut is available, does " +
    "greedy layer-wise training drop the XOR features at the bottleneck while E2E keeps them?",
  claims: [2],
  runs: (scale, opts = {}) =>
    seedsOf(scale, opts).map((seed) => ({
      key: `toy/xor-shortcut/seed${seed}`,
      experiment: NAME,
      group: "xor-shortcut",
      tags: { dataset: "toy", model: "bottleneck-3", train: SIZES[scale].train },
      seed,
      request: request(scale, seed, opts),
      toy: { train: SIZES[scale].train, test: SIZES[scale].test, seed: toyDataSeed(seed) },
      probe: { toy_features: true },
    })),
  settings: (scale, opts = {}) => {
    const t = SIZES[scale];
    const seeds = seedsOf(scale, opts);
    return {
      description: [
        `Data (lib/experiments/toy.ts): x = (e, u, v), u, v ~ N(0, 1), y = [u v > 0]; shortcut ` +
        `e = s (2y - 1) + 0.3 n with s = -1 w.p. 0.2. ${t.train} training and ${t.test} test ` +
        "samples, drawn with data seed 1000 + seed.",
        `Model: fc1 = dense(3) + tanh (bottleneck), fc2, fc3 = dense(${t.width}) + ReLU; ` +
        `${t.epochs} epochs.`,
        methodWords(METHODS),
        ...baseWords(scale).slice(0, 1),
        "Probes at every tracking point: nHSIC(U;T_l) with U = (u, v) and nHSIC(E;T_l) with " +
        "E = e, same estimator as nHSIC(X;T_l), normalised by nHSIC(U;U) and nHSIC(E;E).",
      ],
      seeds,
      requests: [request(scale, seeds[0], opts)],
    };
  },
  summarise,
  figures,
  parts: PARTS,
  section: (claim, e, figs) =>
    claim === 2
      ? {
        primary: true,
        measured: table(e),
        figures: figs.filter((f) => f.name.startsWith("toy-")),
      }
      : null,
};
