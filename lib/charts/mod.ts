/**
 * infoplane's figures: Vega-Lite specs built from results (./specs.ts), rendered to SVG and PNG
 * on the server (./render.ts), and the catalogue of charts the API serves.
 */
import type { AnalysisOutput } from "../analysis.ts";
import type { TrainingResult } from "../train/mod.ts";
import type { SimilarityName } from "../measures/mod.ts";
import {
  accuracyCurves,
  checkpointSimilarityHeatmap,
  depthProfile,
  informationPlane,
  nhsicVsStep,
  similarityHeatmap,
  sweepCompression,
  type VegaLiteSpec,
} from "./specs.ts";

export * from "./specs.ts";
export { compileSpec, renderPng, renderSvg } from "./render.ts";
export type { CompiledSpec, PngOptions, SvgOptions } from "./render.ts";

/** Where a chart can come from: an analysis of a dump, or a training job. */
export type ChartSourceKind = "analyses" | "trainings";

/** Chart names served by the API. */
export const CHART_NAMES = [
  "information-plane",
  "nhsic-vs-step",
  "accuracy",
  "depth-profile",
] as const;

/** A chart name served by the API. */
export type ChartName = typeof CHART_NAMES[number];

/** Output formats: the Vega-Lite spec itself, or the service's rendering of it. */
export const CHART_FORMATS = ["json", "svg", "png"] as const;

/** An output format. */
export type ChartFormat = typeof CHART_FORMATS[number];

/** Media type of each format. */
export const CHART_MEDIA_TYPES: Readonly<Record<ChartFormat, string>> = Object.freeze({
  json: "application/json",
  svg: "image/svg+xml",
  png: "image/png",
});

/** What the catalogue says about one chart. */
export interface ChartInfo {
  name: ChartName;
  title: string;
  description: string;
  sources: ChartSourceKind[];
}

/** The charts the API serves, in the order /v1/charts lists them. */
export const CHARTS: ReadonlyArray<ChartInfo> = Object.freeze(
  [
    {
      name: "information-plane",
      title: "Information plane",
      description: "Normalised nHSIC(X;T) against normalised nHSIC(Y;T): one path per layer " +
        "through the checkpoints, coloured by depth, points growing with the step and an " +
        "arrowhead at the last checkpoint. Trainings: one panel per method, shared scales.",
      sources: ["analyses", "trainings"],
    },
    {
      name: "nhsic-vs-step",
      title: "nHSIC during training",
      description: "Normalised nHSIC(X;T_l) (top row) and nHSIC(Y;T_l) (bottom row) against the " +
        "training step, one line per layer coloured by depth. Trainings: one column per method.",
      sources: ["analyses", "trainings"],
    },
    {
      name: "accuracy",
      title: "Accuracy during training",
      description: "Test (solid) and train (dashed) accuracy against the step, one colour per " +
        "method, with each method's final test accuracy in the legend and chance level marked.",
      sources: ["trainings"],
    },
    {
      name: "depth-profile",
      title: "Depth profile",
      description: "Normalised nHSIC(X;T_l) and nHSIC(Y;T_l) by layer at the last checkpoint " +
        "(the whole picture for single-checkpoint dumps). Trainings: one panel per method.",
      sources: ["analyses", "trainings"],
    },
  ] satisfies ChartInfo[],
);

/** Whether `name` is a chart the API serves. */
export function isChartName(name: string): name is ChartName {
  return (CHART_NAMES as readonly string[]).includes(name);
}

/** Whether `name` is an output format. */
export function isChartFormat(name: string): name is ChartFormat {
  return (CHART_FORMATS as readonly string[]).includes(name);
}

/**
 * The spec of chart `name` for a result of the given kind. Throws a RangeError for a chart the
 * kind does not offer (accuracy needs a training).
 */
export function buildChart(
  name: ChartName,
  source:
    | { kind: "analyses"; result: AnalysisOutput }
    | { kind: "trainings"; result: TrainingResult },
): VegaLiteSpec {
  switch (name) {
    case "information-plane":
      return informationPlane(source.result);
    case "nhsic-vs-step":
      return nhsicVsStep(source.result);
    case "depth-profile":
      return depthProfile(source.result);
    case "accuracy":
      if (source.kind !== "trainings") {
        throw new RangeError("the accuracy chart needs a training result");
      }
      return accuracyCurves(source.result);
  }
}

/**
 * Charts of the optional parts of an analysis (lib/measures): they exist only when the analysis
 * asked for similarity maps or a sweep, so they are catalogued apart from {@link CHARTS}.
 */
export const MEASURE_CHART_NAMES = [
  "similarity",
  "checkpoint-similarity",
  "sweep-compression",
] as const;

/** A measure chart name. */
export type MeasureChartName = typeof MEASURE_CHART_NAMES[number];

/** What the catalogue says about the measure charts (all from analyses). */
export const MEASURE_CHARTS: ReadonlyArray<
  { name: MeasureChartName; title: string; description: string; needs: string }
> = Object.freeze([
  {
    name: "similarity",
    title: "Layer-by-layer similarity",
    description: "Heatmap of a similarity measure between every pair of representations (x, " +
      "the layers, the output), one panel per checkpoint; viridis colours.",
    needs: '"similarity": [...]',
  },
  {
    name: "checkpoint-similarity",
    title: "Similarity across checkpoints",
    description: "Heatmap of a similarity measure between a layer's representations at every " +
      "pair of checkpoints, one panel per layer.",
    needs: '"similarity": [...] and several checkpoints',
  },
  {
    name: "sweep-compression",
    title: "Compression across estimator settings",
    description: "Each layer's compression under every setting of the sweep, with the " +
      "request's own estimator and the threshold of the compression conclusion.",
    needs: '"sweep": {...} and several checkpoints',
  },
]);

/** Whether `name` is a measure chart. */
export function isMeasureChartName(name: string): name is MeasureChartName {
  return (MEASURE_CHART_NAMES as readonly string[]).includes(name);
}

/**
 * The spec of a measure chart of an analysis.
 *
 * @param name The chart.
 * @param result The analysis.
 * @param opts `measure` (similarity charts; default the first map's) and `step` (one checkpoint).
 * @returns The Vega-Lite spec.
 * @throws {RangeError} When the analysis lacks what the chart shows (its message says what to
 * ask for); a route should answer it as a 404 or 409, not a 500.
 */
export function buildMeasureChart(
  name: MeasureChartName,
  result: AnalysisOutput,
  opts: { measure?: SimilarityName; step?: number } = {},
): VegaLiteSpec {
  switch (name) {
    case "similarity":
      return similarityHeatmap(result, opts);
    case "checkpoint-similarity":
      return checkpointSimilarityHeatmap(result, opts);
    case "sweep-compression":
      return sweepCompression(result);
  }
}
