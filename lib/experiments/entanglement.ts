/**
 * Experiment `entanglement` (claim 5): are E2E's middle layers more class-entangled (higher soft
 * nearest-neighbour loss, lib/metrics/snnl.ts) than layer-wise ones, and does a layer's
 * entanglement go with its compression?
 *
 * @module
 */
import { CHART_CONFIG, VEGA_LITE_SCHEMA } from "../charts/mod.ts";
import { exceeds, fmtDiff, fmtStat, pairedDiff, spearman, stat } from "../report/kit.ts";
import { type Block, pct } from "../report/kit.ts";
import { type Figure, METHOD_SCHEME, slug } from "../report/kit.ts";
import { type ClaimPart, MIN_EFFECT, RHO_THRESHOLD, type UnitResult } from "../report/kit.ts";
import type { MethodResult } from "../train/mod.ts";
import { type Config, configRuns, E2E_VS_LAYERWISE, settingsOf } from "./_configs.ts";
import type { Experiment } from "./_experiment.ts";
import {
  accuracy,
  blockSummaries,
  E2E,
  finalProbe,
  groups,
  groupTitle,
  LW,
  methodLabels,
  methodOf,
  middleCompression,
  middleSnnl,
  middleSummaries,
  over,
  tagsOf,
  values,
} from "./_measures.ts";
import { SWEEP_WORDS } from "./_sweep.ts";
import type { ExperimentResult, RunRecord, Scale } from "./types.ts";

const NAME = "entanglement" as const;

const CONFIGS: Record<Scale, Config[]> = {
  micro: [{
    dataset: "mnist",
    train: 128,
    model: { family: "mlp", depth: 3, width: 16 },
    epochs: 1,
    firstEpochPoints: 1,
    methods: E2E_VS_LAYERWISE,
  }],
  cpu: [
    {
      dataset: "mnist",
      train: 6000,
      model: { family: "mlp", depth: 5, width: 128 },
      epochs: 8,
      firstEpochPoints: 2,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: 4000,
      model: { family: "conv", depth: 4, channels: [8, 16] },
      epochs: 6,
      firstEpochPoints: 2,
      methods: E2E_VS_LAYERWISE,
    },
  ],
  long: [
    {
      dataset: "mnist",
      train: undefined,
      model: { family: "mlp", depth: 5, width: 256 },
      epochs: 20,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: undefined,
      model: { family: "conv", depth: 4, channels: [8, 16] },
      epochs: 12,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
  ],
  full: [
    {
      dataset: "mnist",
      train: undefined,
      model: { family: "mlp", depth: 5, width: 256 },
      epochs: 20,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
    {
      dataset: "fashion-mnist",
      train: undefined,
      model: { family: "conv", depth: 4, channels: [16, 32] },
      epochs: 20,
      firstEpochPoints: 4,
      methods: E2E_VS_LAYERWISE,
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// Claim 5's rules

const snnlOf = (m: MethodResult, r: RunRecord) => middleSnnl(r, m.method.label);

function entangledUnits(runs: RunRecord[]): UnitResult[] {
  return groups(runs).map(([group, rs]) => {
    const d = pairedDiff(values(rs, E2E, snnlOf), values(rs, LW, snnlOf));
    return {
      unit: group,
      holds: exceeds(d, MIN_EFFECT.snnl),
      detail: `mean SNNL of the middle layers, e2e - layer-wise ${fmtDiff(d)}`,
    };
  });
}

function correlationUnits(runs: RunRecord[]): UnitResult[] {
  return groups(runs).map(([group, rs]) => {
    const xs: number[] = [], ys: number[] = [];
    for (const r of rs) {
      for (const label of [E2E, LW]) {
        const m = methodOf(r, label);
        const p = finalProbe(r, label);
        if (!m || !p) continue;
        for (const l of middleSummaries(m)) {
          const s = p.layers.find((pl) => pl.name === l.name)?.snnl;
          if (s !== undefined && l.compression !== null) {
            xs.push(l.compression);
            ys.push(s);
          }
        }
      }
    }
    const rho = spearman(xs, ys);
    return {
      unit: group,
      holds: Number.isFinite(rho) && rho >= RHO_THRESHOLD,
      detail: `Spearman correlation of compression and final SNNL over ${xs.length} middle ` +
        `layers (both methods, all seeds): ${
          Number.isFinite(rho) ? rho.toFixed(3) : "undefined (no variation to rank)"
        }`,
    };
  });
}

function accuracyUnits(runs: RunRecord[]): UnitResult[] {
  return groups(runs).map(([group, rs]) => {
    const da = pairedDiff(values(rs, E2E, accuracy), values(rs, LW, accuracy));
    return {
      unit: group,
      holds: exceeds(da, MIN_EFFECT.accuracy),
      detail: `accuracy e2e - layer-wise ${fmtDiff(da)}`,
    };
  });
}

const PARTS: ClaimPart[] = [
  {
    claim: 5,
    id: "5a",
    statement: "E2E's middle layers are more class-entangled than layer-wise ones.",
    rule: "Unit: a configuration of the entanglement experiment. Test: the final soft " +
      "nearest-neighbour loss, averaged over the middle layers (blocks after the first), of e2e " +
      "exceeds layerwise(cross_entropy)'s.",
    evidence: [NAME],
    units: (runsOf) => entangledUnits(runsOf(NAME)),
  },
  {
    claim: 5,
    id: "5b",
    estimator: true,
    statement: "A middle layer's entanglement goes with its compression.",
    rule: "Unit: a configuration. Test: over the middle layers of both methods and all seeds, " +
      `the Spearman correlation of compression and final SNNL is at least ${RHO_THRESHOLD}.`,
    evidence: [NAME],
    units: (runsOf) => correlationUnits(runsOf(NAME)),
  },
  {
    claim: 5,
    id: "5c",
    statement: "The method with entangled middle layers is the more accurate one.",
    rule: "Unit: a configuration. Test: e2e's test accuracy exceeds layerwise(cross_entropy)'s " +
      "in the same runs.",
    evidence: [NAME],
    units: (runsOf) => accuracyUnits(runsOf(NAME)),
  },
];

// ---------------------------------------------------------------------------------------------
// Results: summary, tables, figures

/** Final SNNL of a named layer of a method in a run (NaN without it). */
function layerSnnl(r: RunRecord, label: string, name: string): number {
  return finalProbe(r, label)?.layers.find((l) => l.name === name)?.snnl ?? NaN;
}

function summarise(runs: RunRecord[]) {
  return {
    groups: groups(runs).map(([group, rs]) => ({
      group,
      tags: tagsOf(rs),
      input_snnl: stat(rs.map((r) => finalProbe(r, methodLabels(rs)[0])?.input_snnl ?? NaN)),
      methods: methodLabels(rs).map((label) => {
        const first = rs.map((r) => methodOf(r, label)).find((m) => m);
        const names = first ? blockSummaries(first).map((l) => l.name).concat(["logits"]) : [];
        return {
          label,
          accuracy: over(rs, label, (m) => m.final_test_accuracy),
          middle_snnl: stat(rs.map((r) => middleSnnl(r, label))),
          middle_compression: over(rs, label, middleCompression),
          layers: names.map((name) => ({
            name,
            snnl: stat(rs.map((r) => layerSnnl(r, label, name))),
            compression: over(
              rs,
              label,
              (m) => m.analysis.summary.layers.find((l) => l.name === name)?.compression ?? NaN,
            ),
          })),
        };
      }),
    })),
  };
}

function tables(e: ExperimentResult): Block[] {
  return groups(e.runs).flatMap(([, runs]): Block[] => {
    const labels = methodLabels(runs);
    const first = runs.map((r) => methodOf(r, labels[0])).find((m) => m);
    const names = first ? [...blockSummaries(first).map((l) => l.name), "logits"] : [];
    const input = stat(runs.map((r) => finalProbe(r, labels[0])?.input_snnl ?? NaN));
    const rows = labels.map((label) => [
      label,
      pct(over(runs, label, (m) => m.final_test_accuracy)),
      fmtStat(stat(runs.map((r) => middleSnnl(r, label)))),
      fmtStat(over(runs, label, middleCompression)),
      ...names.map((n) => fmtStat(stat(runs.map((r) => layerSnnl(r, label, n))))),
    ]);
    return [
      {
        type: "p",
        text: `${groupTitle(runs)} (mean ± sd over ${runs.length} seeds); SNNL of the input: ` +
          `${fmtStat(input)}.`,
      },
      {
        type: "table",
        head: [
          "method",
          "accuracy (%)",
          "middle SNNL",
          "middle compression",
          ...names.map((n) => `SNNL ${n}`),
        ],
        rows,
      },
    ];
  });
}

function figures(e: ExperimentResult): Figure[] {
  return groups(e.runs).flatMap(([group, runs]) => {
    const labels = methodLabels(runs);
    const layerRows: Array<Record<string, unknown>> = [];
    const scatter: Array<Record<string, unknown>> = [];
    const names = finalProbe(runs[0], labels[0])?.layers.map((l) => l.name) ?? [];
    for (const label of labels) {
      names.forEach((name, li) => {
        const s = stat(runs.map((r) => finalProbe(r, label)?.layers[li]?.snnl ?? NaN));
        layerRows.push({
          method: label,
          layer: name,
          depth: li + 1,
          snnl: s.mean,
          lo: s.mean - s.sd,
          hi: s.mean + s.sd,
        });
      });
      for (const r of runs) {
        const m = methodOf(r, label), p = finalProbe(r, label);
        if (!m || !p) continue;
        for (const l of middleSummaries(m)) {
          const snnl = p.layers.find((pl) => pl.name === l.name)?.snnl;
          if (snnl === undefined || l.compression === null) continue;
          scatter.push({
            method: label,
            layer: l.name,
            seed: r.seed,
            compression: l.compression,
            snnl,
          });
        }
      }
    }
    const input = stat(runs.map((r) => finalProbe(r, labels[0])?.input_snnl ?? NaN)).mean;
    const color = {
      field: "method",
      type: "nominal",
      scale: { domain: labels, scheme: METHOD_SCHEME },
      legend: { title: "method" },
    };
    const what = `${groupTitle(runs)}; ${runs.length} seeds`;
    return [
      {
        name: `entanglement-layers-${slug(group)}`,
        title: `Soft nearest-neighbour loss per layer: ${groupTitle(runs)}`,
        caption: "Final SNNL of each layer (mean over seeds, ±1 sd; higher = classes more " +
          `entangled); the dotted line is the input's SNNL (${input.toFixed(3)}).`,
        experiment: e.name,
        spec: {
          $schema: VEGA_LITE_SCHEMA,
          title: { text: "Class entanglement by layer (SNNL, end of training)", subtitle: [what] },
          config: CHART_CONFIG,
          width: 460,
          height: 280,
          layer: [
            {
              data: { values: layerRows },
              mark: { type: "errorbar", ticks: { width: 6 } },
              encoding: {
                x: {
                  field: "layer",
                  type: "ordinal",
                  sort: names,
                  title: "layer (input → output)",
                },
                y: { field: "lo", type: "quantitative", title: "soft nearest-neighbour loss" },
                y2: { field: "hi" },
                color,
              },
            },
            {
              data: { values: layerRows },
              mark: { type: "line", strokeWidth: 2.2, point: { filled: true, size: 50 } },
              encoding: {
                x: { field: "layer", type: "ordinal", sort: names },
                y: { field: "snnl", type: "quantitative" },
                color,
                tooltip: [
                  { field: "method" },
                  { field: "layer" },
                  { field: "snnl", type: "quantitative", format: ".3f" },
                ],
              },
            },
            ...(Number.isFinite(input)
              ? [{
                data: { values: [{ input }] },
                mark: { type: "rule", strokeDash: [2, 3], color: "#888" },
                encoding: { y: { field: "input", type: "quantitative" } },
              }]
              : []),
          ],
        },
      },
      {
        name: `entanglement-compression-${slug(group)}`,
        title: `Entanglement against compression: ${groupTitle(runs)}`,
        caption: "One point per middle layer and seed: compression (peak minus final " +
          "nHSIC(X;T)/nHSIC(X;X)) against final SNNL. Claim 5 expects them to rise together.",
        experiment: e.name,
        spec: {
          $schema: VEGA_LITE_SCHEMA,
          title: { text: "Middle layers: compression and entanglement", subtitle: [what] },
          config: CHART_CONFIG,
          data: { values: scatter },
          width: 420,
          height: 280,
          mark: { type: "point", filled: true, size: 60, opacity: 0.85 },
          encoding: {
            x: {
              field: "compression",
              type: "quantitative",
              title: "compression of nHSIC(X;T)/nHSIC(X;X)",
            },
            y: {
              field: "snnl",
              type: "quantitative",
              title: "final soft nearest-neighbour loss",
              scale: { zero: false },
            },
            color,
            shape: { field: "layer", type: "nominal", legend: { title: "layer" } },
            tooltip: [
              { field: "method" },
              { field: "layer" },
              { field: "seed" },
              { field: "compression", type: "quantitative", format: ".3f" },
              { field: "snnl", type: "quantitative", format: ".3f" },
            ],
          },
        },
      },
    ];
  });
}

/** The `entanglement` experiment. */
export const entanglement: Experiment = {
  name: NAME,
  title: "Class entanglement (soft nearest-neighbour loss) and compression",
  question:
    "Are E2E's middle layers more class-entangled (higher SNNL) than layer-wise ones, and " +
    "does a layer's entanglement go with its compression?",
  claims: [5],
  runs: (scale, opts = {}) =>
    configRuns(NAME, CONFIGS[scale], scale, opts, { snnl: true, estimator_sweep: true }),
  settings: (scale, opts = {}) =>
    settingsOf(CONFIGS[scale], scale, opts, [
      "SNNL (Frosst et al. 2019) of every layer on the nHSIC probe samples at every tracking " +
      "point, in the probe batches, at the temperature minimising it over T = 2^k x median " +
      "squared distance, k = -6..4 (lib/metrics/snnl.ts).",
      SWEEP_WORDS,
    ]),
  summarise,
  figures,
  parts: PARTS,
  section: (claim, e, figs) =>
    claim === 5
      ? {
        primary: true,
        measured: tables(e),
        figures: figs.filter((f) => f.name.startsWith("entanglement-")),
      }
      : null,
};
