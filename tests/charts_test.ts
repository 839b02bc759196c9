/**
 * Charts: Vega-Lite specs compile cleanly, the SVG and PNG renderings are well formed and carry
 * what the figure needs (axis titles, one path per layer, colours by depth), and the chart routes
 * answer every format with caching headers and problem+json errors. The routes run on a small
 * app of their own (in-memory loaders, Deno.serve on port 0), not the whole service.
 */
import assert from "node:assert/strict";
import type { AnalysisOutput } from "../lib/analysis.ts";
import {
  accuracyCurves,
  accuracyVsDepth,
  compileSpec,
  depthProfile,
  informationPlane,
  nhsicVsStep,
  renderPng,
  renderSvg,
  STEP_TITLE,
  VEGA_LITE_SCHEMA,
  type VegaLiteSpec,
  wrap,
  X_TITLE,
  Y_TITLE,
} from "../lib/charts/mod.ts";
import { parseFace } from "../lib/charts/fonts.ts";
import { sampleAnalysis, sampleTraining } from "../lib/charts/sample.ts";
import type { TrainingResult } from "../lib/train/mod.ts";
import { keyOwner } from "../routes/app.ts";
import { defaultAnalysisRequest } from "../lib/measures/mod.ts";
import { resolveTrainingRequest } from "../lib/train/mod.ts";
import { type JobKind, type JobRecord, type JobTypes, newRecord } from "../workers/mod.ts";
import { call, encodeNpz, makeDump, withService } from "./api_helpers.ts";
const LAYERS = ["conv1", "conv2", "fc"];
const STEPS = [0, 50, 200, 600];
const analysis: AnalysisOutput = sampleAnalysis({ layers: LAYERS, steps: STEPS });
const training: TrainingResult = sampleTraining({ layers: LAYERS, steps: STEPS });

/** Every spec the module builds, on the constructed results. */
function allSpecs(): Record<string, VegaLiteSpec> {
  return {
    "information-plane/analysis": informationPlane(analysis),
    "information-plane/training": informationPlane(training),
    "nhsic-vs-step/analysis": nhsicVsStep(analysis),
    "nhsic-vs-step/training": nhsicVsStep(training),
    "accuracy/training": accuracyCurves(training),
    "depth-profile/analysis": depthProfile(analysis),
    "depth-profile/single-checkpoint": depthProfile(sampleAnalysis({ steps: [0] })),
    "depth-profile/training": depthProfile(training),
    "information-plane/single-checkpoint": informationPlane(sampleAnalysis({ steps: [10] })),
    "accuracy-vs-depth": accuracyVsDepth([1, 2, 3].flatMap((depth) => [
      { method: "e2e", depth, accuracy_mean: 0.9 + 0.02 * depth, accuracy_sd: 0.01 },
      { method: "layerwise", depth, accuracy_mean: 0.92, accuracy_sd: null },
    ])),
  };
}

/** Checks that tags nest properly and there is one root element; returns the root's tag. */
function assertWellFormed(xml: string): string {
  const stack: string[] = [];
  let roots = 0, root = "";
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>/g;
  const text = xml.replace(tag, (_all, close: string, name: string, _attrs, self: string) => {
    if (close) {
      assert.deepStrictEqual(stack.pop(), name, `closing </${name}>`);
    } else {
      if (stack.length === 0) {
        roots++;
        root = name;
      }
      if (!self) stack.push(name);
    }
    return "";
  });
  assert.deepStrictEqual(stack, [], "unclosed tags");
  assert.deepStrictEqual(roots, 1, "one root element");
  assert(!/[<>]/.test(text), "stray < or > outside tags");
  assert(!/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(text), "unescaped &");
  return root;
}

/** Width and height from a PNG's IHDR chunk (after checking the signature). */
function pngSize(png: Uint8Array): { width: number; height: number } {
  assert.deepStrictEqual(
    Array.from(png.slice(0, 8)),
    [137, 80, 78, 71, 13, 10, 26, 10],
    "PNG signature",
  );
  assert.deepStrictEqual(new TextDecoder().decode(png.slice(12, 16)), "IHDR", "first chunk");
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: v.getUint32(16), height: v.getUint32(20) };
}

function svgSize(svg: string): { width: number; height: number } {
  const m = svg.match(/^<svg[^>]*\swidth="(\d+(?:\.\d+)?)"[^>]*\sheight="(\d+(?:\.\d+)?)"/);
  assert(m, "svg width/height attributes");
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Stroke colours of the line marks (one path per layer trajectory). */
function lineStrokes(svg: string): string[] {
  const groups = svg.split('<g class="mark-line role-mark').slice(1);
  return groups.map((g) => {
    const m = g.match(/<path[^>]*\sstroke="([^"]+)"/);
    assert(m, "line path with a stroke");
    return m[1];
  });
}

Deno.test("every spec is Vega-Lite v5 that compiles without warnings", async () => {
  for (const [name, spec] of Object.entries(allSpecs())) {
    assert.deepStrictEqual(spec.$schema, VEGA_LITE_SCHEMA, `${name}: $schema`);
    const title = spec.title as { text: string; subtitle: string[] };
    assert(title.text.length > 0 && title.subtitle.length > 0, `${name}: title and subtitle`);
    const { vega, warnings } = await compileSpec(spec);
    assert.deepStrictEqual(warnings, [], `${name}: compiler warnings`);
    assert(Array.isArray((vega as { marks?: unknown[] }).marks), `${name}: compiled marks`);
    // The spec is plain JSON (no functions, NaN or undefined that JSON would lose).
    assert.deepStrictEqual(JSON.parse(JSON.stringify(spec)), spec, `${name}: JSON round trip`);
  }
});

Deno.test("specs carry the normalised axes, the data and the facets", () => {
  const ip = informationPlane(analysis);
  const text = JSON.stringify(ip);
  assert(text.includes(X_TITLE) && text.includes(Y_TITLE), "axis titles");
  const rows = (ip.data as { values: Array<Record<string, unknown>> }).values;
  assert.deepStrictEqual(
    rows.length,
    LAYERS.length * STEPS.length,
    "one row per layer and checkpoint",
  );
  const last = rows.filter((r) => r.last);
  assert.deepStrictEqual(last.map((r) => r.layer), LAYERS, "last checkpoint of every layer");
  assert(last.every((r) => typeof r.heading === "number"), "arrowheads have a heading");
  assert.deepStrictEqual(rows.find((r) => r.step === 0)!.heading, null, "no heading at the start");
  assert.deepStrictEqual(
    rows[0].x,
    analysis.checkpoints[0].layers[0].nhsic_x_norm,
    "x is normalised",
  );

  const ipT = informationPlane(training);
  const facet = ipT.facet as { column: { field: string; sort: string[] } };
  assert.deepStrictEqual(facet.column.field, "method");
  assert.deepStrictEqual(facet.column.sort, training.methods.map((m) => m.method.label));
  assert.deepStrictEqual(ipT.resolve, { scale: { x: "shared", y: "shared" } });

  const steps = nhsicVsStep(training);
  assert.deepStrictEqual((steps.vconcat as unknown[]).length, 2, "X row and Y row");
  assert(JSON.stringify(steps).includes(STEP_TITLE), "step axis title");

  const acc = accuracyCurves(training);
  const accRows = (acc.data as { values: Array<Record<string, unknown>> }).values;
  assert.deepStrictEqual(accRows.length, 2 * 2 * STEPS.length, "methods x splits x points");
  const final = (training.methods[0].final_test_accuracy * 100).toFixed(1);
  assert(JSON.stringify(acc).includes(`(test ${final}%)`), "final accuracy in the legend");

  const depth = depthProfile(analysis);
  const depthRows = (depth.data as { values: Array<Record<string, unknown>> }).values;
  assert.deepStrictEqual(depthRows.length, 2 * LAYERS.length, "X and Y per layer");
  assert(depthRows.every((r) => r.step === STEPS[STEPS.length - 1]), "last checkpoint");
});

Deno.test("non-finite values are left out instead of becoming nulls", () => {
  const broken = structuredClone(analysis);
  broken.checkpoints[1].layers[1].nhsic_x_norm = NaN;
  const rows = (informationPlane(broken).data as { values: unknown[] }).values;
  assert.deepStrictEqual(rows.length, LAYERS.length * STEPS.length - 1);
  const data = (nhsicVsStep(broken).data as { values: Array<Record<string, unknown>> }).values;
  assert.deepStrictEqual(data.length, LAYERS.length * STEPS.length - 1);
  assert(data.every((r) => Object.values(r).every((v) => v !== null)), "no nulls in the data");
});

Deno.test("wrap keeps lines under the limit", () => {
  assert.deepStrictEqual(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
  assert.deepStrictEqual(wrap("averyveryverylongword x", 5), ["averyveryverylongword", "x"]);
});

Deno.test("font metrics come from the shipped TTF", async () => {
  const path = new URL(
    import.meta.resolve("@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf"),
  );
  const face = parseFace(await Deno.readFile(path));
  const w = face.measure("nHSIC(X;T)", 12);
  assert(w > 40 && w < 90, `plausible width ${w}`);
  assert(face.measure("WWW", 10) > face.measure("iii", 10), "proportional");
});

Deno.test("SVG: well formed, with the axis titles and one coloured path per layer", async () => {
  const warnings: string[] = [];
  const svg = await renderSvg(informationPlane(analysis), { onWarning: (w) => warnings.push(w) });
  assert.deepStrictEqual(warnings, [], "render warnings");
  assert(svg.startsWith("<svg"), "starts with <svg");
  assert.deepStrictEqual(assertWellFormed(svg), "svg");
  for (const t of [X_TITLE, Y_TITLE, "Information plane", ...LAYERS]) {
    assert(svg.includes(`>${t}<`), `text "${t}"`);
  }
  assert(svg.includes('font-family="Inter, Helvetica'), "chart font");
  const strokes = lineStrokes(svg);
  assert.deepStrictEqual(strokes.length, LAYERS.length, "one trajectory path per layer");
  assert.deepStrictEqual(new Set(strokes).size, LAYERS.length, "a different colour per depth");

  const svgT = await renderSvg(informationPlane(training));
  assert.deepStrictEqual(assertWellFormed(svgT), "svg");
  assert.deepStrictEqual(lineStrokes(svgT).length, 2 * LAYERS.length, "per method and layer");
  for (const m of training.methods) assert(svgT.includes(`>${m.method.label}<`), "facet header");
});

Deno.test("SVG escapes user-provided layer and method names", async () => {
  const nasty = sampleAnalysis({ layers: ['<b>"a"&b</b>', "</svg><script>x</script>"] });
  const svg = await renderSvg(informationPlane(nasty));
  assert.deepStrictEqual(assertWellFormed(svg), "svg");
  assert(!svg.includes("<script"), "no markup injected");
  const t = sampleTraining({ layers: ["fc"] });
  t.methods[0].method.label = "e2e <&>";
  assert.deepStrictEqual(assertWellFormed(await renderSvg(accuracyCurves(t))), "svg");
});

Deno.test("PNG: signature and dimensions that follow the SVG and the scale", async () => {
  const svg = await renderSvg(nhsicVsStep(training));
  const size = svgSize(svg);
  for (const scale of [1, 2]) {
    const png = await renderPng(svg, { scale });
    const got = pngSize(png);
    assert.deepStrictEqual(got, {
      width: Math.round(size.width * scale),
      height: Math.round(size.height * scale),
    }, `scale ${scale}`);
    assert(got.width > 400 && got.height > 300, `plausible size ${got.width}x${got.height}`);
    assert(png.length > 10_000, "not an empty image");
  }
});

// ---------------------------------------------------------------------------------------------
// Routes

/** Path segments of the tests ("a1", "t1", "queued-1") and the real ids they stand for. */
const ALIASES = new Map<string, string>();
const KEYS: Record<string, string> = { alice: "alice-key", mallory: "mallory-key" };
const NOT_READY = "queued-1";

/**
 * A real service whose job store holds a finished analysis "a1" and training "t1" of alice,
 * and a queued analysis; `x-owner` picks the caller (its API key).
 */
async function withChartServer(fn: (base: string) => Promise<void>): Promise<void> {
  await withService({ INFOPLANE_API_KEYS: Object.values(KEYS).join(",") }, async (svc) => {
    const store = svc.jobs.store;
    const owner = await keyOwner(KEYS.alice);
    const seed = async <K extends JobKind>(
      alias: string,
      kind: K,
      request: JobTypes[K]["request"],
      result: unknown,
    ) => {
      const rec = newRecord(kind, request, owner, {}, 1) as JobRecord;
      await store.create(rec);
      if (result) await store.complete(rec.id, JSON.stringify(result), {});
      ALIASES.set(alias, rec.id);
    };
    const request = {
      estimator: analysis.estimator,
      options: defaultAnalysisRequest(),
      m: analysis.m,
      layers: 3,
      checkpoints: 3,
    };
    await seed("a1", "analysis", request, analysis);
    await seed(NOT_READY, "analysis", request, null);
    await seed("t1", "training", resolveTrainingRequest({ dataset: { name: "mnist" } }), training);
    await fn(svc.url);
  });
}

interface Got {
  status: number;
  headers: Headers;
  bytes: Uint8Array;
  // deno-lint-ignore no-explicit-any
  json: any;
}

async function get(base: string, path: string, headers: Record<string, string> = {}) {
  const real = path.split("/").map((seg) => ALIASES.get(seg) ?? seg).join("/");
  const { "x-owner": who = "alice", ...rest } = headers;
  const res = await fetch(base + real, {
    headers: { ...rest, authorization: `Bearer ${KEYS[who]}` },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const type = res.headers.get("content-type") ?? "";
  const json = type.includes("json") && bytes.length
    ? JSON.parse(new TextDecoder().decode(bytes))
    : null;
  return { status: res.status, headers: res.headers, bytes, json } as Got;
}

function assertProblem(r: Got, status: number, field: string): void {
  assert.deepStrictEqual(
    r.status,
    status,
    `status (${new TextDecoder().decode(r.bytes).slice(0, 300)})`,
  );
  assert.deepStrictEqual(r.headers.get("content-type"), "application/problem+json");
  assert.deepStrictEqual(r.json.status, status);
  assert.deepStrictEqual(r.json.field, field);
  assert(typeof r.json.detail === "string" && r.json.detail.length > 0, "detail");
}

Deno.test("routes: every format for analyses and trainings, with caching headers", async () => {
  await withChartServer(async (base) => {
    const json = await get(base, "/v1/analyses/a1/charts/information-plane.json");
    assert.deepStrictEqual(json.status, 200);
    assert(json.headers.get("content-type")!.startsWith("application/json"), "json type");
    assert.deepStrictEqual(json.json, informationPlane(analysis), "the spec of the analysis");
    assert.deepStrictEqual(json.headers.get("cache-control"), "private, max-age=3600");

    const svg = await get(base, "/v1/analyses/a1/charts/depth-profile.svg");
    assert.deepStrictEqual(svg.status, 200);
    assert(svg.headers.get("content-type")!.startsWith("image/svg+xml"), "svg type");
    const svgText = new TextDecoder().decode(svg.bytes);
    assert(svgText.startsWith("<svg") && svgText.includes(`>${X_TITLE}<`), "svg body");

    const png = await get(base, "/v1/trainings/t1/charts/accuracy.png");
    assert.deepStrictEqual(png.status, 200);
    assert.deepStrictEqual(png.headers.get("content-type"), "image/png");
    const size = pngSize(png.bytes);
    const small = await get(base, "/v1/trainings/t1/charts/accuracy.png?scale=1");
    assert.deepStrictEqual(
      pngSize(small.bytes).width * 2,
      size.width,
      "scale=1 is half the default",
    );

    const etag = png.headers.get("etag");
    assert(etag && /^"[0-9a-f]{32}"$/.test(etag), `etag ${etag}`);
    const again = await get(base, "/v1/trainings/t1/charts/accuracy.png", {
      "if-none-match": etag,
    });
    assert.deepStrictEqual(again.status, 304);
    assert.deepStrictEqual(again.bytes.length, 0);

    for (const chart of ["information-plane", "nhsic-vs-step", "depth-profile"]) {
      const r = await get(base, `/v1/trainings/t1/charts/${chart}.json`);
      assert.deepStrictEqual(r.status, 200, chart);
      assert.deepStrictEqual(
        r.json.facet?.column?.field ?? r.json.vconcat?.[0]?.facet?.column?.field,
        "method",
      );
    }
  });
});

Deno.test("routes: unknown charts, formats, ids, owners and unfinished results", async () => {
  await withChartServer(async (base) => {
    assertProblem(await get(base, "/v1/analyses/a1/charts/pie.svg"), 404, "chart");
    assertProblem(await get(base, "/v1/analyses/a1/charts/accuracy.json"), 404, "chart");
    assertProblem(await get(base, "/v1/analyses/a1/charts/information-plane.gif"), 404, "format");
    assertProblem(await get(base, "/v1/analyses/a1/charts/information-plane"), 404, "format");
    assertProblem(await get(base, "/v1/analyses/nope/charts/information-plane.svg"), 404, "id");
    assertProblem(await get(base, "/v1/trainings/a1/charts/accuracy.json"), 404, "id");
    const other = await get(base, "/v1/analyses/a1/charts/information-plane.json", {
      "x-owner": "mallory",
    });
    assertProblem(other, 404, "id");
    assertProblem(await get(base, `/v1/analyses/${NOT_READY}/charts/depth-profile.png`), 409, "id");
    assertProblem(await get(base, "/v1/trainings/t1/charts/accuracy.png?scale=9"), 422, "scale");
    assertProblem(await get(base, "/v1/trainings/t1/charts/accuracy.svg?scale=2"), 422, "scale");
  });
});

Deno.test("routes: /v1/charts lists the charts and OpenAPI documents the routes", async () => {
  await withChartServer(async (base) => {
    const list = await get(base, "/v1/charts");
    assert.deepStrictEqual(list.status, 200);
    const names = list.json.charts.map((c: { name: string }) => c.name);
    assert.deepStrictEqual(names, [
      "information-plane",
      "nhsic-vs-step",
      "accuracy",
      "depth-profile",
      "similarity",
      "checkpoint-similarity",
      "sweep-compression",
    ]);
    const acc = list.json.charts.find((c: { name: string }) => c.name === "accuracy");
    assert.deepStrictEqual(acc.sources, ["trainings"]);
    assert.deepStrictEqual(acc.urls, { trainings: "/v1/trainings/{id}/charts/accuracy.{format}" });

    const doc = (await get(base, "/openapi.json")).json;
    const op = doc.paths["/v1/analyses/{id}/charts/{chart}.{format}"]?.get;
    assert(op, "analysis chart route documented");
    const param = (name: string) =>
      op.parameters.find((p: { name: string }) => p.name === name).schema.enum;
    assert.deepStrictEqual(param("chart"), [
      "information-plane",
      "nhsic-vs-step",
      "depth-profile",
      "similarity",
      "checkpoint-similarity",
      "sweep-compression",
    ]);
    // An analysis without similarity maps: the measure chart says what to ask for.
    assertProblem(await get(base, "/v1/analyses/a1/charts/similarity.svg"), 409, "chart");
    assert.deepStrictEqual(param("format"), ["json", "svg", "png"]);
    const opT = doc.paths["/v1/trainings/{id}/charts/{chart}.{format}"]?.get;
    assert(
      opT.parameters.find((p: { name: string }) => p.name === "chart").schema.enum.includes(
        "accuracy",
      ),
      "trainings offer accuracy",
    );
    assert(doc.paths["/v1/charts"]?.get, "catalogue documented");
  });
});

Deno.test("routes: measure charts of an analysis that asked for maps and a sweep", async () => {
  await withService({}, async (svc) => {
    const d = makeDump({ m: 48, steps: [0, 10] });
    const form = new FormData();
    form.set("dump", new File([encodeNpz(d) as BlobPart], "d.npz"));
    form.set("similarity", JSON.stringify(["cka_linear"]));
    form.set("sweep", JSON.stringify({ sigma: [1, 5] }));
    const r = await call(svc, "/v1/analyses", { method: "POST", body: form });
    assert.deepStrictEqual(r.status, 200, r.text);
    for (const chart of ["similarity", "checkpoint-similarity", "sweep-compression"]) {
      const svg = await call(svc, `/v1/analyses/${r.body.id}/charts/${chart}.svg`);
      assert.deepStrictEqual(svg.status, 200, `${chart}: ${svg.text.slice(0, 200)}`);
      assert(svg.text.startsWith("<svg"), chart);
    }
    const step0 = await call(svc, `/v1/analyses/${r.body.id}/charts/similarity.json?step=0`);
    assert.deepStrictEqual(step0.status, 200, step0.text);
  });
});
