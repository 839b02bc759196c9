// Heatmaps of the similarity maps and the sweep's compression chart: Vega-Lite that compiles
// without warnings, well-formed SVG, one cell per pair, and a clear RangeError when the analysis
// lacks what a chart shows.
import assert from "node:assert/strict";
import { analyseDump, type AnalysisOutput } from "../lib/analysis.ts";
import {
  buildMeasureChart,
  checkpointSimilarityHeatmap,
  compileSpec,
  MEASURE_CHART_NAMES,
  MEASURE_CHARTS,
  renderSvg,
  similarityHeatmap,
  sweepCompression,
  VEGA_LITE_SCHEMA,
} from "../lib/charts/mod.ts";
import type { Dump } from "../lib/dump/mod.ts";
import { portableLinalg } from "../lib/linalg/mod.ts";
import { resolveEstimator } from "../lib/nhsic/mod.ts";

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

const LAYERS = ["conv1", "fc <1>", "logits"];
const STEPS = [0, 100, 400];

/** Layers that drift from x towards the labels as training goes on. */
function dump(m = 40): Dump {
  const r = lcg(1);
  const x = Float32Array.from({ length: m * 6 }, r);
  const labels = Int32Array.from({ length: m }, (_, i) => i % 3);
  return {
    x: { rows: m, cols: 6, data: x },
    labels,
    classes: 3,
    numClasses: 3,
    checkpoints: STEPS.map((step, ci) => ({
      step,
      layers: LAYERS.map((name, li) => {
        const n = lcg(10 * ci + li), d = 5 - li, a = (ci * (li + 1)) / 6;
        const v = Float32Array.from(
          { length: m * d },
          (_, k) =>
            (1 - a) * x[Math.floor(k / d) * 6 + (k % d)] + a * labels[Math.floor(k / d)] +
            0.05 * n(),
        );
        return { name, values: { rows: m, cols: d, data: v } };
      }),
    })),
  };
}

const out: AnalysisOutput = analyseDump(dump(), resolveEstimator(), {
  linalg: portableLinalg,
  similarity: ["cka_linear", "cka_debiased", "nhsic"],
  sweep: { sigma: [1, 5, "median"], eps: [1e-5, 1e-3] },
});

Deno.test("measure charts compile without warnings and render well-formed SVG", async () => {
  const specs = {
    "similarity": similarityHeatmap(out),
    "similarity/nhsic/one step": similarityHeatmap(out, { measure: "nhsic", step: 400 }),
    "checkpoint-similarity": checkpointSimilarityHeatmap(out, { measure: "cka_debiased" }),
    "sweep-compression": sweepCompression(out),
  };
  for (const [name, spec] of Object.entries(specs)) {
    assert.deepStrictEqual(spec.$schema, VEGA_LITE_SCHEMA, name);
    const { warnings } = await compileSpec(spec);
    assert.deepStrictEqual(warnings, [], `${name}: compiler warnings`);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(spec)), spec, `${name}: plain JSON`);
    const svg = await renderSvg(spec);
    assert.ok(svg.startsWith("<svg") && svg.trimEnd().endsWith("</svg>"), name);
    assert.ok(!svg.includes("<1>"), `${name}: layer names are escaped`);
  }
});

Deno.test("heatmap data: one cell per pair and panel, viridis, names in depth order", () => {
  const spec = similarityHeatmap(out, { measure: "cka_linear" });
  const rows = (spec.data as {
    values: Array<{ checkpoint: string; row: string; col: string; value: number }>;
  })
    .values;
  assert.deepStrictEqual(rows.length, STEPS.length * (LAYERS.length + 1) ** 2);
  assert.deepStrictEqual(new Set(rows.map((r) => r.checkpoint)).size, STEPS.length);
  const text = JSON.stringify(spec);
  assert.ok(text.includes('"scheme":"viridis"'), "colour-blind-safe scheme");
  assert.ok(text.includes(JSON.stringify(["x", ...LAYERS])), "x then the layers in depth order");
  const cell = rows.find((r) =>
    r.checkpoint === "step 100" && r.row === "x" && r.col === "logits"
  )!;
  const map = out.similarity!.find((s) => s.measure === "cka_linear" && s.step === 100)!;
  assert.deepStrictEqual(cell.value, map.matrix[0][LAYERS.length]);
  const cp = checkpointSimilarityHeatmap(out);
  const cpRows = (cp.data as { values: unknown[] }).values;
  assert.deepStrictEqual(cpRows.length, LAYERS.length * STEPS.length ** 2);
  const sw = sweepCompression(out);
  const points = (sw.layer as Array<{ data: { values: unknown[] } }>)[1].data.values;
  assert.deepStrictEqual(points.length, 6 * LAYERS.length, "one point per setting and layer");
});

Deno.test("measure charts say what to ask for when the analysis lacks their data", () => {
  const plain = analyseDump(dump(), resolveEstimator(), { linalg: portableLinalg });
  assert.throws(
    () => similarityHeatmap(plain),
    (e: unknown) => e instanceof RangeError && /"similarity"/.test(e.message),
  );
  assert.throws(() => checkpointSimilarityHeatmap(plain), RangeError);
  assert.throws(() => sweepCompression(plain), /"sweep"/);
  assert.throws(() => similarityHeatmap(out, { step: 7 }), /at step 7/);
  assert.deepStrictEqual(MEASURE_CHARTS.map((c) => c.name), [...MEASURE_CHART_NAMES]);
  for (const name of MEASURE_CHART_NAMES) {
    assert.deepStrictEqual(typeof buildMeasureChart(name, out).$schema, "string");
    assert.throws(() => buildMeasureChart(name, plain), RangeError);
  }
});
