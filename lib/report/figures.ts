/**
 * The report's figures as Vega-Lite specs (rendered by lib/charts/render.ts like every other
 * chart of the service): accuracy against depth, information-plane trajectories and nHSIC against
 * step per layer (E2E and layer-wise side by side; mean over seeds), the toy's dependence on the
 * XOR features, the nHSIC-regularised trade-off and the entanglement of each layer.
 *
 * Trajectories are averaged over seeds point by point: the runs of a configuration share their
 * tracking steps, so the mean of nHSIC at a step is well defined.
 *
 * @module
 */
import type { AnalysisOutput, LayerResult } from "../analysis.ts";
import {
  type AccuracyDepthRow,
  accuracyVsDepth,
  CHART_CONFIG,
  informationPlane,
  nhsicVsStep,
  STEP_TITLE,
  VEGA_LITE_SCHEMA,
  type VegaLiteSpec,
} from "../charts/specs.ts";
import type { ExperimentResult, RunRecord, SuiteResult } from "../experiments/types.ts";
import type { TrainingResult } from "../train/types.ts";
import { stat } from "./aggregate.ts";
import {
  finalProbe,
  meanFinalX,
  methodLabels,
  methodOf,
  middleSummaries,
  probesOf,
} from "./measures.ts";

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

const METHOD_SCHEME = "tableau10";
const DEPTH_SCHEME = { name: "viridis", extent: [0, 0.88] };

function retitle(spec: VegaLiteSpec, text: string, subtitle?: string[]): VegaLiteSpec {
  const t = (spec.title ?? {}) as { text?: string; subtitle?: string[] };
  return { ...spec, title: { ...t, text, ...(subtitle ? { subtitle } : {}) } };
}

function slug(s: string): string {
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
      const others = runs.map((r) => methodOf(r, m.method.label)).filter((x) => x !== undefined);
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

function groups(runs: RunRecord[]): Array<[string, RunRecord[]]> {
  const m = new Map<string, RunRecord[]>();
  for (const r of runs) m.set(r.group, [...(m.get(r.group) ?? []), r]);
  return [...m];
}

/** "mnist, mlp w128, depth 5" (the depth only where the runs have one). */
export function groupTitle(runs: RunRecord[]): string {
  const t = runs[0].tags;
  return `${t.dataset}, ${t.model_name ?? t.model}${
    t.depth === undefined ? "" : `, depth ${t.depth}`
  }`;
}

// ---------------------------------------------------------------------------------------------

function accuracyFigures(e: ExperimentResult): Figure[] {
  const series = new Map<string, RunRecord[]>();
  for (const r of e.runs) {
    const key = `${r.tags.dataset} ${r.tags.model_name ?? r.tags.model}`;
    series.set(key, [...(series.get(key) ?? []), r]);
  }
  return [...series].map(([key, runs]) => {
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
      spec: retitle(accuracyVsDepth(rows), `Test accuracy against depth: ${key}`, [
        `Mean over ${seeds} seeds; error bars ±1 sd.`,
      ]),
    };
  });
}

const PLANE_CAPTION = "Each line follows one layer through training, mean over seeds (points " +
  "grow with the step, the arrowhead is the last tracking point); the methods side by side.";

function dynamicsFigures(
  e: ExperimentResult,
  prefix: string,
  planeNote = "Claims 3-4: E2E's middle layers should bend left (compress) late while the " +
    "output stays high.",
): Figure[] {
  return groups(e.runs).flatMap(([group, runs]) => {
    const mean = meanTrajectories(runs);
    const what = `${groupTitle(runs)}; mean over ${runs.length} seeds`;
    return [
      {
        name: `${prefix}-plane-${slug(group)}`,
        title: `Information plane: ${groupTitle(runs)}`,
        caption: `${PLANE_CAPTION} ${planeNote}`,
        experiment: e.name,
        spec: retitle(informationPlane(mean), "Information plane", [what]),
      },
      {
        name: `${prefix}-nhsic-${slug(group)}`,
        title: `nHSIC against step: ${groupTitle(runs)}`,
        caption: "Top: nHSIC(X;T_l)/nHSIC(X;X); bottom: nHSIC(Y;T_l)/nHSIC(Y;Y); one line per " +
          "layer. Claim 2: E2E's label dependence should rise earlier.",
        experiment: e.name,
        spec: retitle(nhsicVsStep(mean), "nHSIC during training", [what]),
      },
    ];
  });
}

function toyFigures(e: ExperimentResult): Figure[] {
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
    ...dynamicsFigures(
      e,
      "toy",
      "nHSIC(X;T) here is the dependence on all three inputs (e, u, v).",
    ).filter((f) => f.name.startsWith("toy-plane")),
  ];
}

function regularisedFigures(e: ExperimentResult): Figure[] {
  return groups(e.runs).map(([group, runs]) => {
    const rows = methodLabels(runs).map((label) => {
      const spec = runs.map((r) => methodOf(r, label)).find((m) => m)?.method;
      const x = stat(runs.map((r) => {
        const m = methodOf(r, label);
        return m ? meanFinalX(m) : NaN;
      }));
      const a = stat(runs.map((r) => methodOf(r, label)?.final_test_accuracy ?? NaN));
      const kind = spec?.name === "e2e"
        ? "e2e"
        : spec?.nhsic_lambda
        ? `layer-wise + nHSIC (${spec.nhsic_target})`
        : "layer-wise";
      return {
        method: label,
        kind,
        lambda: spec?.nhsic_lambda ? `λ ${spec.nhsic_lambda}` : "",
        x: x.mean,
        x_lo: x.mean - x.sd,
        x_hi: x.mean + x.sd,
        acc: a.mean,
        acc_lo: a.mean - a.sd,
        acc_hi: a.mean + a.sd,
      };
    });
    const x = {
      field: "x",
      type: "quantitative",
      title: "mean final nHSIC(X;T_l)/nHSIC(X;X) over blocks",
      scale: { zero: false },
    };
    const y = {
      field: "acc",
      type: "quantitative",
      title: "test accuracy",
      axis: { format: ".0%" },
      scale: { zero: false },
    };
    const color = {
      field: "kind",
      type: "nominal",
      scale: { scheme: METHOD_SCHEME },
      legend: { title: "method" },
    };
    return {
      name: `nhsic-regularised-${slug(group)}`,
      title: `nHSIC-regularised layer-wise training: ${groupTitle(runs)}`,
      caption: "Each point is a method (mean over seeds, bars ±1 sd): the nHSIC term should " +
        "move the layers' dependence on the input sideways, while accuracy stays below E2E's.",
      experiment: e.name,
      spec: {
        $schema: VEGA_LITE_SCHEMA,
        title: {
          text: "Does the nHSIC term close the gap to E2E?",
          subtitle: [`${groupTitle(runs)}; mean over ${runs.length} seeds, bars ±1 sd.`],
        },
        config: CHART_CONFIG,
        data: { values: rows },
        width: 460,
        height: 300,
        layer: [
          {
            mark: { type: "rule", strokeWidth: 1.2 },
            encoding: { x: { ...x, field: "x_lo" }, x2: { field: "x_hi" }, y, color },
          },
          {
            mark: { type: "rule", strokeWidth: 1.2 },
            encoding: { x, y: { ...y, field: "acc_lo" }, y2: { field: "acc_hi" }, color },
          },
          {
            mark: { type: "point", filled: true, size: 70, opacity: 1 },
            encoding: {
              x,
              y,
              color,
              tooltip: [
                { field: "method" },
                { field: "acc", type: "quantitative", format: ".2%", title: "accuracy" },
                { field: "x", type: "quantitative", format: ".3f", title: "nHSIC(X;T) norm." },
              ],
            },
          },
          {
            mark: { type: "text", dx: 8, align: "left", fontSize: 10.5, color: "#444" },
            encoding: { x, y, text: { field: "lambda" } },
          },
        ],
      },
    };
  });
}

function entanglementFigures(e: ExperimentResult): Figure[] {
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

/** Every figure of a suite's report, in report order. */
export function buildFigures(suite: SuiteResult): Figure[] {
  return suite.experiments.flatMap((e) => {
    if (e.runs.length === 0) return [];
    switch (e.name) {
      case "accuracy-vs-depth":
        return accuracyFigures(e);
      case "information-dynamics":
        return dynamicsFigures(e, "dynamics");
      case "toy":
        return toyFigures(e);
      case "nhsic-regularised":
        return regularisedFigures(e);
      case "entanglement":
        return entanglementFigures(e);
    }
  });
}
