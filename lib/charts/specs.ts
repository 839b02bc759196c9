/**
 * Vega-Lite (v5) specifications of infoplane's figures, built from analysis and training
 * results. Pure functions: no I/O, data inlined as `values`, so a spec can be saved, embedded in
 * a dashboard (vega-embed) or rendered to SVG/PNG by ./render.ts without further requests.
 *
 * User-provided strings (layer names, method labels) only ever travel as data values, scale
 * domains or titles, never inside Vega expressions.
 */
import type { AnalysisOutput } from "../analysis.ts";
import type { SimilarityName } from "../measures/mod.ts";
import type { SweepEntry } from "../measures/mod.ts";
import type { TrainingResult } from "../train/mod.ts";

/** A Vega-Lite specification as a plain JSON object. */
export type VegaLiteSpec = Record<string, unknown>;

/**
 * Results the nHSIC charts accept: an analysis of a dump, a whole training job (one panel per
 * method), or several analyses to show side by side ({@link ResultPanels}).
 */
export type ChartSource = AnalysisOutput | TrainingResult | ResultPanels;

/**
 * Analyses shown side by side, one panel each with shared scales, like a training's methods
 * (e.g. results being compared). Labels name the panels and must be distinct.
 */
export interface ResultPanels {
  panels: Array<{ label: string; analysis: AnalysisOutput }>;
}

/** One row of {@link accuracyVsDepth}'s input (e.g. one method and depth over several seeds). */
export interface AccuracyDepthRow {
  method: string;
  depth: number;
  accuracy_mean: number;
  /** Standard deviation over seeds; null or 0 draws no error bar. */
  accuracy_sd: number | null;
}

/** The Vega-Lite schema every spec declares. */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Axis title of normalised input dependence. */
export const X_TITLE = "nHSIC(X;T) / nHSIC(X;X)";
/** Axis title of normalised label dependence. */
export const Y_TITLE = "nHSIC(Y;T) / nHSIC(Y;Y)";
/** Axis title of training time. */
export const STEP_TITLE = "training step (mini-batches)";
/** Axis of training steps: thousands separators, whole steps. */
const STEP_AXIS = { format: ",d", tickMinStep: 1 };

/** Sequential colours by depth: viridis without its palest yellow (legible on white). */
const DEPTH_SCHEME = { name: "viridis", extent: [0, 0.88] };
/** Categorical colours of training methods (colour-blind-safe Tableau 10). */
const METHOD_SCHEME = "tableau10";
/** Colours of the two dependences in depth profiles. */
const XY_COLOURS = ["#e4572e", "#2e86ab"];

/** Looks and sizes shared by every figure (dashboards may override through vega-embed). */
export const CHART_CONFIG = {
  background: "white",
  padding: 12,
  title: {
    anchor: "start",
    fontSize: 16,
    subtitleFontSize: 11.5,
    subtitleColor: "#555",
    subtitlePadding: 4,
    offset: 14,
  },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: "normal",
    titleColor: "#333",
    labelColor: "#444",
    gridColor: "#e8e8e8",
    domainColor: "#999",
    tickColor: "#999",
  },
  legend: {
    labelFontSize: 11,
    titleFontSize: 11.5,
    titleFontWeight: "normal",
    titleColor: "#333",
    symbolStrokeWidth: 2,
  },
  header: { labelFontSize: 13, labelFontWeight: "bold", labelColor: "#222", titleFontSize: 12 },
  view: { stroke: "#ddd" },
  line: { strokeWidth: 2 },
};

/**
 * The top-level wrapper of every spec: schema, title, subtitle wrapped to about `width` pixels
 * (one entry per paragraph), shared config.
 */
function top(
  title: string,
  subtitle: string[],
  width: number,
  body: VegaLiteSpec,
): VegaLiteSpec {
  // Subtitles are 11.5 px; Inter averages about 6.2 px per character at that size.
  const chars = Math.max(width, 560) / 6.2;
  const lines = subtitle.filter((p) => p.length > 0).flatMap((p) => wrap(p, chars));
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: title, subtitle: lines },
    config: CHART_CONFIG,
    ...body,
  };
}

/** Greedy word wrap to at most `max` characters per line (longer words stay whole). */
export function wrap(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

function isTraining(r: ChartSource): r is TrainingResult {
  return Array.isArray((r as TrainingResult).methods);
}

/** The panels of a source (a training's methods, or given panels); null for one analysis. */
function panelsOf(r: ChartSource): ResultPanels["panels"] | null {
  if (Array.isArray((r as ResultPanels).panels)) return (r as ResultPanels).panels;
  if (isTraining(r)) return r.methods.map((m) => ({ label: m.method.label, analysis: m.analysis }));
  return null;
}

/** The analyses of a source with their method label (null for a plain analysis). */
function analysesOf(r: ChartSource): Array<{ method: string | null; analysis: AnalysisOutput }> {
  return panelsOf(r)?.map((p) => ({ method: p.label, analysis: p.analysis })) ??
    [{ method: null, analysis: r as AnalysisOutput }];
}

/** Layer names in depth order over all analyses (first appearance wins). */
function layerOrder(items: Array<{ analysis: AnalysisOutput }>): string[] {
  const seen = new Set<string>();
  for (const { analysis } of items) {
    for (const cp of analysis.checkpoints) for (const l of cp.layers) seen.add(l.name);
  }
  return [...seen];
}

const finite = (v: number) => typeof v === "number" && Number.isFinite(v);

/** [lo, hi] padded by `pad` of the range (at least `minSpan` wide), optionally clamped. */
function paddedExtent(
  values: number[],
  opts: { pad?: number; minSpan?: number; clamp?: [number, number]; include?: number[] } = {},
): [number, number] {
  const v = [...values, ...(opts.include ?? [])].filter(finite);
  if (v.length === 0) return opts.clamp ?? [0, 1];
  let lo = Math.min(...v), hi = Math.max(...v);
  const minSpan = opts.minSpan ?? 0.05;
  if (hi - lo < minSpan) {
    const mid = (lo + hi) / 2;
    lo = mid - minSpan / 2;
    hi = mid + minSpan / 2;
  }
  const pad = (hi - lo) * (opts.pad ?? 0.06);
  lo -= pad;
  hi += pad;
  if (opts.clamp) {
    lo = Math.max(lo, opts.clamp[0]);
    hi = Math.min(hi, opts.clamp[1]);
  }
  // Round outwards to a tick-like step, so that the edges fall on round values.
  const step = niceStep((hi - lo) / 10);
  return [Math.floor(lo / step) * step, Math.ceil(hi / step) * step].map((x) =>
    Number(x.toPrecision(12))
  ) as [number, number];
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function methodFacet(
  inner: VegaLiteSpec,
  methods: string[] | null,
  headers = true,
): VegaLiteSpec {
  if (!methods) return inner;
  return {
    facet: {
      column: {
        field: "method",
        type: "nominal",
        sort: methods,
        header: headers ? { title: null, labelPadding: 6 } : { title: null, labels: false },
      },
    },
    spacing: 24,
    spec: inner,
  };
}

function methodsOf(r: ChartSource): string[] | null {
  return panelsOf(r)?.map((p) => p.label) ?? null;
}

function depthColour(layers: string[]) {
  return {
    field: "layer",
    type: "ordinal",
    scale: { domain: layers, scheme: DEPTH_SCHEME },
    legend: { title: "layer (input → output)", labelLimit: 220 },
  };
}

function analysisNote(r: ChartSource): string {
  const a = analysesOf(r)[0]?.analysis;
  if (!a) return "";
  const e = a.estimator;
  const batch = e.batch_size ? `, averaged over ${e.batches} batches of ${e.batch_size}` : "";
  const kernel = e.kernel === "gaussian"
    ? `Gaussian kernel (sigma ${e.sigma}${e.distance === "plain" ? ", plain distance" : ""})`
    : "linear kernel";
  return `Estimator: ${kernel}, m = ${a.m}${batch}.`;
}

// ---------------------------------------------------------------------------------------------
// Information plane

/** Points drawn as an arrowhead: the last checkpoint of a path that has a direction. */
const LAST_WITH_HEADING = {
  and: [{ field: "last", equal: true }, { field: "heading", valid: true }],
};

/** Row of the information-plane data. */
interface PlaneRow {
  method?: string;
  layer: string;
  depth: number;
  step: number;
  /** 0 at the first checkpoint, 1 at the last (drives point size). */
  progress: number;
  x: number;
  y: number;
  x_raw: number;
  y_raw: number;
  /** Heading of the path arriving at this point, in screen degrees clockwise from "up". */
  heading: number | null;
  last: boolean;
}

/**
 * The information plane: normalised nHSIC(X;T) (x) against normalised nHSIC(Y;T) (y), one path
 * per layer through the checkpoints, coloured by depth; points grow with training time and an
 * arrowhead marks each path's last checkpoint. A training result gets one panel per method
 * (side by side, shared scales).
 */
export function informationPlane(result: ChartSource): VegaLiteSpec {
  const items = analysesOf(result);
  const methods = methodsOf(result);
  const layers = layerOrder(items);
  const width = methods ? (methods.length > 2 ? 280 : 340) : 440;
  const height = methods ? 300 : 360;

  const rows: PlaneRow[] = [];
  for (const { method, analysis } of items) {
    const cps = [...analysis.checkpoints].sort((a, b) => a.step - b.step);
    const n = cps.length;
    cps.forEach((cp, t) => {
      cp.layers.forEach((l, i) => {
        if (!finite(l.nhsic_x_norm) || !finite(l.nhsic_y_norm)) return;
        rows.push({
          ...(method === null ? {} : { method }),
          layer: l.name,
          depth: i + 1,
          step: cp.step,
          progress: n > 1 ? t / (n - 1) : 1,
          x: l.nhsic_x_norm,
          y: l.nhsic_y_norm,
          x_raw: l.nhsic_x,
          y_raw: l.nhsic_y,
          heading: null,
          last: t === n - 1,
        });
      });
    });
  }
  // At least 0.2 wide: normalised values live on [0, ~1], and a tiny span would blow noise up.
  const xDomain = paddedExtent(rows.map((r) => r.x), { minSpan: 0.2 });
  const yDomain = paddedExtent(rows.map((r) => r.y), { minSpan: 0.2 });
  // Points shrink as checkpoints get denser, so paths stay readable.
  const most = Math.max(1, ...items.map(({ analysis }) => analysis.checkpoints.length));
  const biggest = Math.min(110, Math.max(30, 500 / most));
  // Headings in screen space, from the fixed domains and the panel size.
  const sx = width / (xDomain[1] - xDomain[0]);
  const sy = height / (yDomain[1] - yDomain[0]);
  const prev = new Map<string, PlaneRow>();
  for (const r of rows) {
    const key = `${r.method ?? ""}\u0000${r.layer}`;
    const p = prev.get(key);
    if (p) {
      const dx = (r.x - p.x) * sx, dy = (r.y - p.y) * sy;
      if (Math.hypot(dx, dy) > 0.5) r.heading = (Math.atan2(dx, dy) * 180) / Math.PI;
      else r.heading = p.heading;
    }
    prev.set(key, r);
  }
  const tooltip = [
    ...(methods ? [{ field: "method", type: "nominal" }] : []),
    { field: "layer", type: "nominal" },
    { field: "depth", type: "quantitative" },
    { field: "step", type: "quantitative" },
    { field: "x", type: "quantitative", title: X_TITLE, format: ".3f" },
    { field: "y", type: "quantitative", title: Y_TITLE, format: ".3f" },
    { field: "x_raw", type: "quantitative", title: "nHSIC(X;T)", format: ".3f" },
    { field: "y_raw", type: "quantitative", title: "nHSIC(Y;T)", format: ".3f" },
  ];
  const x = {
    field: "x",
    type: "quantitative",
    title: X_TITLE,
    scale: { domain: xDomain, nice: false, zero: false },
    axis: { labelFlush: false },
  };
  const y = {
    field: "y",
    type: "quantitative",
    title: Y_TITLE,
    scale: { domain: yDomain, nice: false, zero: false },
    axis: { labelFlush: false },
  };
  const single = items.every(({ analysis }) => analysis.checkpoints.length <= 1);
  const inner: VegaLiteSpec = {
    width,
    height,
    layer: [
      {
        mark: { type: "line", strokeWidth: 2.2, opacity: 0.85, strokeCap: "round" },
        encoding: {
          x,
          y,
          color: depthColour(layers),
          detail: { field: "layer", type: "nominal" },
          order: { field: "step", type: "quantitative" },
        },
      },
      {
        transform: [{ filter: { not: LAST_WITH_HEADING } }],
        mark: { type: "point", filled: true, stroke: "white", strokeWidth: 0.8, opacity: 1 },
        encoding: {
          x,
          y,
          color: depthColour(layers),
          size: {
            field: "progress",
            type: "quantitative",
            scale: { domain: [0, 1], range: [Math.round(biggest / 7), Math.round(biggest)] },
            legend: null,
          },
          tooltip,
        },
      },
      {
        transform: [{ filter: LAST_WITH_HEADING }],
        mark: {
          type: "point",
          shape: "triangle",
          filled: true,
          size: Math.round(Math.max(120, 1.7 * biggest)),
          opacity: 1,
          stroke: "white",
          strokeWidth: 0.8,
        },
        encoding: {
          x,
          y,
          color: depthColour(layers),
          angle: { field: "heading", type: "quantitative", scale: null },
          tooltip,
        },
      },
      // Without paths there is room to name every point.
      ...(single
        ? [{
          mark: { type: "text", dy: -11, fontSize: 11, color: "#333" },
          encoding: { x, y, text: { field: "layer", type: "nominal" } },
        }]
        : []),
    ],
  };
  const how = single
    ? "One checkpoint: one point per layer."
    : "Each line follows one layer through training: points grow with the step, the arrowhead " +
      "is the last checkpoint.";
  return top(
    "Information plane",
    [
      how,
      "Up = more information about the labels; left = less about the input (compression).",
      analysisNote(result),
    ],
    methods ? methods.length * (width + 24) + 180 : width + 160,
    {
      data: { values: rows },
      ...methodFacet(inner, methods),
      ...(methods ? { resolve: { scale: { x: "shared", y: "shared" } } } : {}),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// nHSIC against step

/**
 * Normalised nHSIC(X;T_l) (top row) and nHSIC(Y;T_l) (bottom row) against the training step, one
 * line per layer coloured by depth; a training result gets one column per method with shared
 * scales.
 */
export function nhsicVsStep(result: ChartSource): VegaLiteSpec {
  const items = analysesOf(result);
  const methods = methodsOf(result);
  const layers = layerOrder(items);
  const width = methods ? (methods.length > 2 ? 260 : 330) : 460;
  const height = methods ? 170 : 190;
  const rows: Array<Record<string, unknown>> = [];
  for (const { method, analysis } of items) {
    for (const cp of analysis.checkpoints) {
      cp.layers.forEach((l, i) => {
        if (!finite(l.nhsic_x_norm) || !finite(l.nhsic_y_norm)) return;
        rows.push({
          ...(method === null ? {} : { method }),
          layer: l.name,
          depth: i + 1,
          step: cp.step,
          x: l.nhsic_x_norm,
          y: l.nhsic_y_norm,
        });
      });
    }
  }
  const steps = rows.map((r) => r.step as number);
  const xScale = { domain: [Math.min(0, ...steps), Math.max(1, ...steps)], nice: false };
  const panel = (field: "x" | "y", title: string, showSteps: boolean): VegaLiteSpec => {
    const xEnc = {
      field: "step",
      type: "quantitative",
      title: showSteps ? STEP_TITLE : null,
      scale: xScale,
      axis: STEP_AXIS,
    };
    const yEnc = {
      field,
      type: "quantitative",
      title,
      // Shared by the methods; at least 0.2 wide so that noise does not fill the panel.
      scale: { domain: paddedExtent(rows.map((r) => r[field] as number), { minSpan: 0.2 }) },
      axis: { labelFlush: false },
    };
    const tooltip = [
      ...(methods ? [{ field: "method", type: "nominal" }] : []),
      { field: "layer", type: "nominal" },
      { field: "step", type: "quantitative" },
      { field, type: "quantitative", title, format: ".3f" },
    ];
    return methodFacet(
      {
        width,
        height,
        layer: [
          {
            mark: { type: "line", strokeWidth: 2 },
            encoding: { x: xEnc, y: yEnc, color: depthColour(layers), order: { field: "step" } },
          },
          {
            mark: { type: "point", filled: true, size: 22, opacity: 1 },
            encoding: { x: xEnc, y: yEnc, color: depthColour(layers), tooltip },
          },
        ],
      },
      methods,
      !showSteps,
    );
  };
  return top(
    "nHSIC during training",
    [
      "Top: dependence on the input (falls when a layer compresses). Bottom: dependence on the " +
      "labels (rises as a layer fits). One line per layer.",
      analysisNote(result),
    ],
    methods ? methods.length * (width + 24) + 180 : width + 160,
    {
      data: { values: rows },
      vconcat: [panel("x", X_TITLE, false), panel("y", Y_TITLE, true)],
      spacing: 18,
      resolve: { scale: { color: "shared" } },
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Accuracy

/**
 * Test (solid) and train (dashed) accuracy against the training step, one colour per method;
 * the legend carries each method's final test accuracy and a dotted rule marks chance level.
 */
export function accuracyCurves(training: TrainingResult): VegaLiteSpec {
  const methods = training.methods.map((m) => m.method.label);
  const names = training.methods.map((m) =>
    `${m.method.label} (test ${formatPct(m.final_test_accuracy)})`
  );
  const rows: Array<Record<string, unknown>> = [];
  training.methods.forEach((m, i) => {
    for (const c of m.curves) {
      for (const split of ["test", "train"] as const) {
        const acc = split === "test" ? c.test_accuracy : c.train_accuracy;
        if (!finite(acc)) continue;
        rows.push({
          method: m.method.label,
          series: names[i],
          split,
          epoch: c.epoch,
          step: c.step,
          accuracy: acc,
        });
      }
    }
  });
  const classes = training.dataset?.num_classes;
  const chance = classes && classes > 1 ? 1 / classes : null;
  const yDomain = paddedExtent(rows.map((r) => r.accuracy as number), {
    clamp: [0, 1],
    include: chance === null ? [] : [chance],
  });
  const x = { field: "step", type: "quantitative", title: STEP_TITLE, axis: STEP_AXIS };
  const yScale = { domain: yDomain, nice: false };
  const y = {
    field: "accuracy",
    type: "quantitative",
    title: "accuracy (%)",
    axis: { format: ".0%" },
    scale: yScale,
  };
  const color = {
    field: "series",
    type: "nominal",
    scale: { domain: names, scheme: METHOD_SCHEME },
    legend: {
      title: "method (final test accuracy)",
      labelLimit: 280,
      symbolType: "stroke",
      symbolStrokeWidth: 3,
    },
  };
  const strokeDash = {
    field: "split",
    type: "nominal",
    scale: { domain: ["test", "train"], range: [[1, 0], [5, 3]] },
    legend: { title: "split", symbolStrokeColor: "#555" },
  };
  const layer: VegaLiteSpec[] = [
    {
      mark: { type: "line", strokeWidth: 2.2 },
      encoding: { x, y, color, strokeDash, detail: { field: "split" }, order: { field: "step" } },
    },
    {
      transform: [{ filter: { field: "split", equal: "test" } }],
      mark: { type: "point", filled: true, size: 26, opacity: 1 },
      encoding: {
        x,
        y,
        color,
        tooltip: [
          { field: "method", type: "nominal" },
          { field: "epoch", type: "quantitative" },
          { field: "step", type: "quantitative" },
          { field: "accuracy", type: "quantitative", title: "test accuracy", format: ".2%" },
        ],
      },
    },
  ];
  const steps = rows.map((r) => r.step as number);
  if (chance !== null && steps.length > 0) {
    const mark = { values: [{ chance, step: Math.max(...steps), label: `chance (1/${classes})` }] };
    const cy = { field: "chance", type: "quantitative", scale: yScale };
    layer.unshift(
      {
        data: mark,
        mark: { type: "rule", strokeDash: [2, 3], color: "#888" },
        encoding: { y: cy },
      },
      {
        data: mark,
        mark: { type: "text", align: "right", baseline: "bottom", dy: -3, color: "#777" },
        encoding: { y: cy, x: { field: "step", type: "quantitative" }, text: { field: "label" } },
      },
    );
  }
  const dataset = training.dataset ? `${training.dataset.name}, ` : "";
  const width = 520;
  return top(
    "Accuracy during training",
    [
      `${dataset}${methods.length} method${methods.length === 1 ? "" : "s"}; ` +
      "solid = test split, dashed = train split.",
    ],
    width + 200,
    { data: { values: rows }, width, height: 300, layer },
  );
}

function formatPct(v: number): string {
  return finite(v) ? `${(v * 100).toFixed(1)}%` : "n/a";
}

/**
 * Mean test accuracy against depth, one line per method, with ±1 sd error bars (for experiment
 * suites that train several depths and seeds).
 */
export function accuracyVsDepth(rows: AccuracyDepthRow[]): VegaLiteSpec {
  const methods = [...new Set(rows.map((r) => r.method))];
  const k = methods.length;
  const dodge = 0.07;
  const values = rows.filter((r) => finite(r.depth) && finite(r.accuracy_mean)).map((r) => {
    const sd = r.accuracy_sd !== null && finite(r.accuracy_sd) ? Math.abs(r.accuracy_sd) : 0;
    return {
      method: r.method,
      depth: r.depth,
      x: r.depth + (methods.indexOf(r.method) - (k - 1) / 2) * dodge,
      mean: r.accuracy_mean,
      sd,
      lo: Math.max(0, r.accuracy_mean - sd),
      hi: Math.min(1, r.accuracy_mean + sd),
    };
  });
  const depths = values.map((v) => v.depth);
  const xDomain = depths.length ? [Math.min(...depths) - 0.4, Math.max(...depths) + 0.4] : [0, 1];
  const yDomain = paddedExtent(values.flatMap((v) => [v.lo, v.hi]), { clamp: [0, 1] });
  const x = {
    field: "x",
    type: "quantitative",
    title: "depth (number of blocks)",
    scale: { domain: xDomain, nice: false, zero: false },
    axis: { format: "d", grid: false, values: [...new Set(depths)].sort((a, b) => a - b) },
  };
  const yScale = { domain: yDomain, nice: false };
  const y = {
    field: "mean",
    type: "quantitative",
    title: "test accuracy (%)",
    axis: { format: ".0%" },
    scale: yScale,
  };
  const color = {
    field: "method",
    type: "nominal",
    scale: { domain: methods, scheme: METHOD_SCHEME },
    legend: { title: "method", labelLimit: 280 },
  };
  const tooltip = [
    { field: "method", type: "nominal" },
    { field: "depth", type: "quantitative" },
    { field: "mean", type: "quantitative", title: "mean test accuracy", format: ".2%" },
    { field: "sd", type: "quantitative", title: "sd", format: ".2%" },
  ];
  const width = 440;
  return top(
    "Test accuracy against depth",
    ["Mean over seeds; error bars show ±1 standard deviation."],
    width + 160,
    {
      data: { values },
      width,
      height: 300,
      layer: [
        {
          mark: { type: "errorbar", ticks: { width: 6 }, thickness: 1.5 },
          encoding: {
            x,
            y: { ...y, field: "lo" },
            y2: { field: "hi" },
            color,
          },
        },
        {
          mark: { type: "line", strokeWidth: 2.2, point: { filled: true, size: 50 } },
          encoding: { x, y, color, order: { field: "depth" }, tooltip },
        },
      ],
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Depth profile

/**
 * Normalised nHSIC(X;T_l) and nHSIC(Y;T_l) by depth at the last checkpoint (the whole story of a
 * single-checkpoint dump); a training result gets one panel per method.
 */
export function depthProfile(result: ChartSource): VegaLiteSpec {
  const items = analysesOf(result);
  const methods = methodsOf(result);
  const layers = layerOrder(items);
  const rows: Array<Record<string, unknown>> = [];
  const lastSteps = new Set<number>();
  for (const { method, analysis } of items) {
    const cps = analysis.checkpoints;
    if (cps.length === 0) continue;
    const last = cps.reduce((a, b) => (b.step > a.step ? b : a));
    lastSteps.add(last.step);
    last.layers.forEach((l, i) => {
      for (
        const [q, v, raw] of [
          [X_TITLE, l.nhsic_x_norm, l.nhsic_x],
          [Y_TITLE, l.nhsic_y_norm, l.nhsic_y],
        ] as const
      ) {
        if (!finite(v)) continue;
        rows.push({
          ...(method === null ? {} : { method }),
          layer: l.name,
          depth: i + 1,
          step: last.step,
          quantity: q,
          value: v,
          raw,
        });
      }
    });
  }
  const longNames = layers.length > 8 || layers.some((n) => n.length > 8);
  const x = {
    field: "layer",
    type: "ordinal",
    sort: layers,
    scale: { domain: layers },
    title: "layer (input → output)",
    axis: { labelAngle: longNames ? -35 : 0, labelLimit: 120 },
  };
  const y = {
    field: "value",
    type: "quantitative",
    title: "normalised nHSIC (nHSIC(·;T) / nHSIC(·;·))",
    scale: { zero: true },
  };
  const color = {
    field: "quantity",
    type: "nominal",
    scale: { domain: [X_TITLE, Y_TITLE], range: XY_COLOURS },
    legend: { title: null, orient: "top", direction: "horizontal" },
  };
  const perLayer = methods ? 58 : 70;
  const width = Math.max(methods ? 220 : 320, Math.min(560, layers.length * perLayer));
  const inner = {
    width,
    height: 260,
    layer: [
      {
        mark: { type: "line", strokeWidth: 2.4 },
        encoding: { x, y, color, detail: { field: "quantity" } },
      },
      {
        mark: { type: "point", filled: true, size: 70, stroke: "white", strokeWidth: 1 },
        encoding: {
          x,
          y,
          color,
          shape: {
            field: "quantity",
            type: "nominal",
            scale: { domain: [X_TITLE, Y_TITLE], range: ["circle", "square"] },
            legend: color.legend,
          },
          tooltip: [
            ...(methods ? [{ field: "method", type: "nominal" }] : []),
            { field: "layer", type: "nominal" },
            { field: "depth", type: "quantitative" },
            { field: "step", type: "quantitative" },
            { field: "quantity", type: "nominal", title: "measure" },
            { field: "value", type: "quantitative", title: "normalised", format: ".3f" },
            { field: "raw", type: "quantitative", title: "raw nHSIC", format: ".3f" },
          ],
        },
      },
    ],
  };
  const at = lastSteps.size === 1 ? `step ${[...lastSteps][0]}` : "the last checkpoint";
  return top(
    "Depth profile",
    [
      `Dependence of each layer on the input (X) and on the labels (Y) at ${at}.`,
      "An information bottleneck shows as low X with high Y at the last layer.",
      analysisNote(result),
    ],
    methods ? methods.length * (width + 24) + 60 : width + 60,
    {
      data: { values: rows },
      ...methodFacet(inner, methods),
      ...(methods ? { resolve: { scale: { y: "shared" } } } : {}),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Loss and per-layer compression (the viewer's pages; not routed by the chart API)

/**
 * Training loss against the step, one colour per method: the cross-entropy of the network's
 * output on the training batches (solid) and, where it differs, the method's own objective
 * (dashed: layer-wise training's sum of local losses). Log scale when the loss spans more than a
 * factor of 20.
 */
export function lossCurves(training: TrainingResult): VegaLiteSpec {
  const methods = training.methods.map((m) => m.method.label);
  const rows: Array<Record<string, unknown>> = [];
  for (const m of training.methods) {
    for (const c of m.curves) {
      if (finite(c.train_loss) && c.train_loss > 0) {
        rows.push({
          method: m.method.label,
          series: "output loss",
          step: c.step,
          loss: c.train_loss,
        });
      }
      const own = c.objective;
      if (own !== undefined && finite(own) && own > 0 && m.method.name !== "e2e") {
        rows.push({ method: m.method.label, series: "own objective", step: c.step, loss: own });
      }
    }
  }
  const losses = rows.map((r) => r.loss as number);
  const log = losses.length > 0 && Math.max(...losses) / Math.min(...losses) > 20;
  const x = { field: "step", type: "quantitative", title: STEP_TITLE, axis: STEP_AXIS };
  const y = {
    field: "loss",
    type: "quantitative",
    title: log ? "loss (log scale)" : "loss",
    scale: log ? { type: "log" } : { zero: false },
  };
  const color = {
    field: "method",
    type: "nominal",
    scale: { domain: methods, scheme: METHOD_SCHEME },
    legend: { title: "method", labelLimit: 280, symbolType: "stroke", symbolStrokeWidth: 3 },
  };
  const strokeDash = {
    field: "series",
    type: "nominal",
    scale: { domain: ["output loss", "own objective"], range: [[1, 0], [5, 3]] },
    legend: { title: null, symbolStrokeColor: "#555" },
  };
  const width = 520;
  return top(
    "Loss during training",
    [
      "Solid: cross-entropy of the network's output on the training batches. Dashed: the " +
      "method's own objective where it differs (layer-wise: the sum of its local losses).",
    ],
    width + 200,
    {
      data: { values: rows },
      width,
      height: 260,
      layer: [
        {
          mark: { type: "line", strokeWidth: 2.2 },
          encoding: {
            x,
            y,
            color,
            strokeDash,
            detail: { field: "series" },
            order: { field: "step" },
          },
        },
        {
          mark: { type: "point", filled: true, size: 22, opacity: 1 },
          encoding: {
            x,
            y,
            color,
            tooltip: [
              { field: "method", type: "nominal" },
              { field: "series", type: "nominal", title: "curve" },
              { field: "step", type: "quantitative" },
              { field: "loss", type: "quantitative", format: ".4f" },
            ],
          },
        },
      ],
    },
  );
}

/**
 * Compression of each layer over training (peak minus final normalised nHSIC(X;T_l), the
 * summary's `compression`), input to output, with the threshold of the "compresses" conclusion
 * dashed; bars of layers that follow the information bottleneck are outlined. Panels per method
 * (or per compared result) share the y scale.
 *
 * @throws {RangeError} When no analysis has several checkpoints (compression needs dynamics).
 */
export function compressionByLayer(result: ChartSource): VegaLiteSpec {
  const items = analysesOf(result);
  const methods = methodsOf(result);
  const layers = layerOrder(items);
  const rows: Array<Record<string, unknown>> = [];
  let threshold = 0.05;
  for (const { method, analysis } of items) {
    const s = analysis.summary;
    if (!s?.dynamics) continue;
    threshold = s.thresholds.compression;
    s.layers.forEach((l, i) => {
      if (l.compression === null || !finite(l.compression)) return;
      rows.push({
        ...(method === null ? {} : { method }),
        layer: l.name,
        depth: i + 1,
        compression: l.compression,
        peak_step: l.peak_step,
        label_retention: l.label_retention,
        ib: l.follows_ib ? "follows the IB" : "does not",
      });
    });
  }
  if (rows.length === 0) {
    throw new RangeError("compression needs several checkpoints; this result has one");
  }
  const values = [...rows.map((r) => r.compression as number), threshold];
  const yScale = {
    // Bars start at 0: no padding below it unless a layer's dependence grew (negative bars).
    domain: paddedExtent(values, {
      include: [0],
      minSpan: 0.1,
      clamp: [Math.min(0, ...values), Infinity],
    }),
    nice: false,
  };
  const longNames = layers.length > 8 || layers.some((n) => n.length > 8);
  const x = {
    field: "layer",
    type: "ordinal",
    sort: layers,
    scale: { domain: layers, paddingInner: 0.25 },
    title: "layer (input → output)",
    axis: { labelAngle: longNames ? -35 : 0, labelLimit: 120 },
  };
  const y = {
    field: "compression",
    type: "quantitative",
    title: "compression (peak − final nHSIC(X;T) / nHSIC(X;X))",
    scale: yScale,
  };
  const perLayer = methods ? 48 : 64;
  const width = Math.max(methods ? 200 : 300, Math.min(520, layers.length * perLayer));
  const inner: VegaLiteSpec = {
    width,
    height: 240,
    layer: [
      {
        mark: { type: "bar", strokeWidth: 2 },
        encoding: {
          x,
          y,
          color: { ...depthColour(layers), legend: null },
          stroke: {
            field: "ib",
            type: "nominal",
            scale: { domain: ["follows the IB", "does not"], range: ["#111", "transparent"] },
            legend: {
              title: "information bottleneck",
              symbolType: "square",
              symbolFillColor: "#d8d8d8",
              symbolStrokeWidth: 2,
            },
          },
          tooltip: [
            ...(methods ? [{ field: "method", type: "nominal" }] : []),
            { field: "layer", type: "nominal" },
            { field: "compression", type: "quantitative", format: ".3f" },
            { field: "peak_step", type: "quantitative", title: "peak at step" },
            { field: "label_retention", type: "quantitative", format: ".2f" },
            { field: "ib", type: "nominal", title: "information bottleneck" },
          ],
        },
      },
      {
        mark: { type: "rule", strokeDash: [5, 4], color: "#666" },
        encoding: { y: { datum: threshold, type: "quantitative", scale: yScale } },
      },
    ],
  };
  return top(
    "Compression by layer",
    [
      "How much each layer's dependence on the input fell from its peak to the end of " +
      `training. Dashed: the threshold ${threshold} above which a layer counts as compressing; ` +
      "outlined bars: layers that also keep their label information (information bottleneck).",
    ],
    methods ? methods.length * (width + 24) + 180 : width + 180,
    {
      data: { values: rows },
      ...methodFacet(inner, methods),
      ...(methods ? { resolve: { scale: { y: "shared" } } } : {}),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Similarity maps and the robustness sweep (lib/measures)

/** What each similarity measure is called on chart legends. */
const SIMILARITY_TITLES: Readonly<Record<SimilarityName, string>> = {
  cka_linear: "linear CKA",
  cka_debiased: "debiased CKA",
  cka_gaussian: "Gaussian CKA",
  hsic: "HSIC (biased)",
  nhsic: "nHSIC",
};

/** Colour domain of a map: [0, 1] for CKA (wider if debiased values fall outside), else the data's range. */
function heatDomain(measure: SimilarityName, values: number[]): [number, number] {
  const v = values.filter(finite);
  const lo = v.length ? Math.min(...v) : 0, hi = v.length ? Math.max(...v) : 1;
  if (measure.startsWith("cka")) return [Math.min(0, lo), Math.max(1, hi)];
  return hi > lo ? [Math.min(0, lo), hi] : [lo - 1, hi + 1];
}

/** One heatmap panel's layers: coloured cells, and the values written in when there is room. */
function heatLayers(
  order: string[],
  domain: [number, number],
  legendTitle: string,
  axisTitle: string,
  tooltipTitles: [string, string],
): VegaLiteSpec[] {
  const x = {
    field: "col",
    type: "ordinal",
    sort: order,
    scale: { domain: order },
    title: axisTitle,
    axis: { labelAngle: order.some((n) => n.length > 4) ? -35 : 0, labelLimit: 110 },
  };
  const y = {
    field: "row",
    type: "ordinal",
    sort: order,
    scale: { domain: order },
    title: axisTitle,
    axis: { labelLimit: 110 },
  };
  const layers: VegaLiteSpec[] = [{
    mark: { type: "rect", stroke: "white", strokeWidth: 0.5 },
    encoding: {
      x,
      y,
      color: {
        field: "value",
        type: "quantitative",
        scale: { scheme: HEAT_SCHEME, domain: domain },
        legend: { title: legendTitle, gradientLength: 160 },
      },
      tooltip: [
        { field: "row", type: "ordinal", title: tooltipTitles[0] },
        { field: "col", type: "ordinal", title: tooltipTitles[1] },
        { field: "value", type: "quantitative", title: legendTitle, format: ".4f" },
      ],
    },
  }];
  if (order.length <= 10) {
    // Light text on the dark (low) end of viridis, dark text on the light end.
    const mid = domain[0] + 0.55 * (domain[1] - domain[0]);
    layers.push({
      mark: { type: "text", fontSize: order.length > 6 ? 9 : 10.5 },
      encoding: {
        x,
        y,
        text: { field: "value", type: "quantitative", format: ".2f" },
        color: {
          condition: { test: `datum.value > ${mid}`, value: "#222" },
          value: "#f4f4f4",
        },
      },
    });
  }
  return layers;
}

/** Sequential colours of the heatmaps: viridis (perceptually uniform, colour-blind safe). */
const HEAT_SCHEME = "viridis";

/** Options of {@link similarityHeatmap} and {@link checkpointSimilarityHeatmap}. */
export interface SimilarityChartOptions {
  /** Which map (default: the first the analysis has). */
  measure?: SimilarityName;
  /** Only this checkpoint's map (layer-by-layer heatmap; default: every checkpoint). */
  step?: number;
}

function checkpointLabel(step: number, name?: string): string {
  return name !== undefined ? name : `step ${step}`;
}

/**
 * Layer-by-layer similarity heatmaps: rows and columns are x, the layers in depth order and the
 * last layer; one panel per checkpoint (or the one asked for). Colours: viridis.
 *
 * @param result An analysis with `similarity` maps.
 * @param opts The measure and, optionally, one checkpoint.
 * @returns The Vega-Lite spec.
 * @throws {RangeError} When the analysis has no such map.
 */
export function similarityHeatmap(
  result: AnalysisOutput,
  opts: SimilarityChartOptions = {},
): VegaLiteSpec {
  const maps = result.similarity ?? [];
  const measure = opts.measure ?? maps[0]?.measure;
  let chosen = maps.filter((m) => m.measure === measure);
  if (opts.step !== undefined) chosen = chosen.filter((m) => m.step === opts.step);
  if (!measure || chosen.length === 0) {
    throw new RangeError(
      `the analysis has no ${measure ?? ""} similarity map${
        opts.step !== undefined ? ` at step ${opts.step}` : ""
      }` +
        `; ask for it with "similarity": ["${measure ?? "cka_linear"}"]`,
    );
  }
  const order = chosen[0].layers;
  const panels = chosen.map((m) => checkpointLabel(m.step, m.name));
  const rows = chosen.flatMap((m, p) =>
    m.matrix.flatMap((row, i) =>
      row.map((value, j) => ({ checkpoint: panels[p], row: m.layers[i], col: m.layers[j], value }))
    )
  ).filter((r) => finite(r.value));
  const title = SIMILARITY_TITLES[measure];
  const domain = heatDomain(measure, rows.map((r) => r.value));
  const side = Math.max(160, Math.min(320, order.length * 34));
  const inner: VegaLiteSpec = {
    width: side,
    height: side,
    layer: heatLayers(order, domain, title, "representation (x → output)", ["row", "column"]),
  };
  const several = panels.length > 1;
  return top(
    "Layer-by-layer similarity",
    [
      `${title} between every pair of representations: the input x, each layer, and the last ` +
      `layer (output), ${several ? "one panel per checkpoint" : `at ${panels[0]}`}.`,
      measure === "nhsic"
        ? "nHSIC is not bounded by 1: the diagonal holds each representation's own nHSIC(T;T)."
        : "",
      analysisNote(result),
    ],
    several ? Math.min(panels.length, 4) * (side + 40) + 160 : side + 200,
    {
      data: { values: rows },
      ...(several
        ? {
          facet: {
            field: "checkpoint",
            type: "ordinal",
            sort: panels,
            header: { title: null, labelPadding: 6 },
          },
          columns: 4,
          spacing: 24,
          spec: inner,
        }
        : inner),
    },
  );
}

/**
 * Checkpoint-by-checkpoint similarity heatmaps: how much each layer's representation changes
 * through training, one panel per layer (depth order). Colours: viridis.
 *
 * @param result An analysis with `checkpoint_similarity` maps (several checkpoints).
 * @param opts The measure (default: the first the analysis has).
 * @returns The Vega-Lite spec.
 * @throws {RangeError} When the analysis has no such map.
 */
export function checkpointSimilarityHeatmap(
  result: AnalysisOutput,
  opts: Pick<SimilarityChartOptions, "measure"> = {},
): VegaLiteSpec {
  const maps = result.checkpoint_similarity ?? [];
  const measure = opts.measure ?? maps[0]?.measure;
  const chosen = maps.filter((m) => m.measure === measure);
  if (!measure || chosen.length === 0) {
    throw new RangeError(
      `the analysis has no ${measure ?? ""} checkpoint-by-checkpoint map; it needs several ` +
        `checkpoints and "similarity": ["${measure ?? "cka_linear"}"]`,
    );
  }
  const labels = chosen[0].steps.map((s, i) => checkpointLabel(s, chosen[0].names?.[i]));
  const layers = chosen.map((m) => m.layer);
  const rows = chosen.flatMap((m) =>
    m.matrix.flatMap((row, i) =>
      row.map((value, j) => ({ layer: m.layer, row: labels[i], col: labels[j], value }))
    )
  ).filter((r) => finite(r.value));
  const title = SIMILARITY_TITLES[measure];
  const side = Math.max(150, Math.min(280, labels.length * 30));
  return top(
    "Similarity across checkpoints",
    [
      `${title} between a layer's representations at two checkpoints: one panel per layer ` +
      "(input → output). Bright off-diagonal cells = the layer changed little between them.",
      analysisNote(result),
    ],
    Math.min(layers.length, 4) * (side + 40) + 160,
    {
      data: { values: rows },
      facet: {
        field: "layer",
        type: "ordinal",
        sort: layers,
        header: { title: null, labelPadding: 6 },
      },
      columns: 4,
      spacing: 24,
      spec: {
        width: side,
        height: side,
        layer: heatLayers(
          labels,
          heatDomain(measure, rows.map((r) => r.value)),
          title,
          "checkpoint",
          [
            "checkpoint (row)",
            "checkpoint (column)",
          ],
        ),
      },
    },
  );
}

/** A sweep setting in words, e.g. "gaussian σ=5 squared eps=1e-5 m". */
function settingLabel(e: SweepEntry["estimator"]): string {
  const k = e.kernel === "linear"
    ? "linear"
    : `gaussian σ=${e.sigma}${e.distance === "plain" ? " plain" : ""}`;
  return `${k}, eps=${e.eps}${e.batch_size ? `, batch ${e.batch_size}` : ""}`;
}

/**
 * Each layer's compression (peak minus final normalised nHSIC(X;T)) under every setting of the
 * sweep: one point per setting, the request's own estimator as a black bar, and the threshold
 * of the "compresses" conclusion as a dashed rule. Points are filled when the conclusion holds.
 *
 * @param result An analysis with a `sweep` of several checkpoints.
 * @returns The Vega-Lite spec.
 * @throws {RangeError} Without a sweep, or with a single checkpoint (no compression).
 */
export function sweepCompression(result: AnalysisOutput): VegaLiteSpec {
  const sweep = result.sweep ?? [];
  if (sweep.length === 0) {
    throw new RangeError('the analysis has no sweep; ask for one with "sweep": {...}');
  }
  if (!result.summary.dynamics) {
    throw new RangeError("compression needs several checkpoints; this analysis has one");
  }
  const threshold = result.summary.thresholds.compression;
  const layers = result.summary.layers.map((l) => l.name);
  const k = sweep.length;
  const rows = sweep.flatMap((e, s) =>
    e.summary.layers.map((l, li) => ({
      layer: layers[li],
      setting: settingLabel(e.estimator),
      index: s,
      // Spread the points of one layer across its band, in setting order.
      offset: k > 1 ? s / (k - 1) - 0.5 : 0,
      compression: l.compression ?? 0,
      holds: (l.compression ?? -Infinity) >= threshold ? "yes" : "no",
    }))
  ).filter((r) => finite(r.compression));
  const base = result.summary.layers.map((l) => ({
    layer: l.name,
    compression: l.compression ?? 0,
  }));
  const values = [...rows.map((r) => r.compression), ...base.map((b) => b.compression), threshold];
  const yScale = { domain: paddedExtent(values, { include: [0], minSpan: 0.1 }), nice: false };
  const x = {
    field: "layer",
    type: "ordinal",
    sort: layers,
    scale: { domain: layers, paddingInner: 0.3 },
    title: "layer (input → output)",
    axis: { labelAngle: layers.some((n) => n.length > 8) ? -35 : 0, labelLimit: 120 },
  };
  const y = {
    field: "compression",
    type: "quantitative",
    title: "compression (peak − final nHSIC(X;T) / nHSIC(X;X))",
    scale: yScale,
  };
  const width = Math.max(300, Math.min(620, layers.length * 90));
  const robust = new Map(
    (result.robustness?.conclusions ?? []).filter((c) => c.kind === "compression")
      .map((c) => [c.layer, c.verdict]),
  );
  return top(
    "Compression across estimator settings",
    [
      `Each point is one of ${k} settings of the sweep; filled = the layer compresses by at ` +
      `least ${threshold} under it. Black bars: the request's own estimator. Dashed: the threshold.`,
      robust.size
        ? "Verdicts: " + layers.map((l) => `${l} ${robust.get(l) ?? "n/a"}`).join("; ") + "."
        : "",
    ],
    width + 200,
    {
      width,
      height: 280,
      layer: [
        {
          data: { values: [{ threshold }] },
          mark: { type: "rule", strokeDash: [5, 4], color: "#888" },
          encoding: { y: { field: "threshold", type: "quantitative", scale: yScale } },
        },
        {
          data: { values: rows },
          mark: { type: "point", size: 46, strokeWidth: 1.6, opacity: 0.9 },
          encoding: {
            x,
            xOffset: { field: "offset", type: "quantitative", scale: { domain: [-0.6, 0.6] } },
            y,
            color: {
              field: "holds",
              type: "nominal",
              scale: { domain: ["yes", "no"], range: XY_COLOURS.slice().reverse() },
              legend: { title: "compresses" },
            },
            fill: {
              field: "holds",
              type: "nominal",
              scale: { domain: ["yes", "no"], range: [XY_COLOURS[1], "white"] },
              legend: { title: "compresses" },
            },
            tooltip: [
              { field: "layer", type: "nominal" },
              { field: "setting", type: "nominal" },
              { field: "compression", type: "quantitative", format: ".3f" },
            ],
          },
        },
        {
          data: { values: base },
          mark: { type: "tick", color: "#111", thickness: 2.5, size: 36 },
          encoding: {
            x,
            y,
            tooltip: [
              { field: "layer", type: "nominal" },
              {
                field: "compression",
                type: "quantitative",
                title: "request's estimator",
                format: ".3f",
              },
            ],
          },
        },
      ],
    },
  );
}
