/**
 * The analysis API end to end, through the typed client (client/mod.ts): every call below is
 * checked against the API's OpenAPI document at compile time, and every analysis the service
 * returns is parsed with its strict zod schema (routes/schemas.ts) at run time.
 */
import assert from "node:assert/strict";
import {
  type Analysis,
  createInfoplaneClient,
  formData,
  type InfoplaneClient,
  type Problem,
  waitForJob,
} from "../client/mod.ts";
import type { NdArray } from "../lib/dump/mod.ts";
import { AnalysisSchema } from "../routes/schemas.ts";
import {
  encodeNpy,
  encodeNpz,
  makeDump,
  resultOf,
  type TestService,
  toCsv,
  toNested,
  withService,
} from "./api_helpers.ts";

const ESTIMATOR_FIELDS = [
  "kernel",
  "distance",
  "sigma",
  "eps",
  "centring",
  "label_kernel",
  "label_centring",
  "batch_size",
  "batches",
  "samples_used",
];
const LAYER_FIELDS = [
  "name",
  "nhsic_x",
  "nhsic_y",
  "nhsic_x_norm",
  "nhsic_y_norm",
  "cka_x",
  "cka_y",
];

/** What the client returns for a call. */
interface Answer<T> {
  data?: T;
  error?: Problem;
  response: Response;
}

/** A finished analysis: the result fields are there. */
type Done = Analysis & Required<Pick<Analysis, "reference" | "checkpoints" | "summary">>;

const api = (svc: TestService): InfoplaneClient => createInfoplaneClient(svc.url);

/** Nested rows of an array, as the JSON form takes them. */
const nested = (a: NdArray): unknown[] => toNested(a);

/** Options of the POST helpers. */
interface Send {
  estimator?: Record<string, unknown>;
  async?: boolean;
}

const query = (o: Send) => (o.async ? { async: "true" as const } : {});

/** POSTs an .npz archive as the multipart field `dump`. */
function postNpz(c: InfoplaneClient, npz: Uint8Array, o: Send = {}) {
  return c.POST("/v1/analyses", {
    params: { query: query(o) },
    body: {
      dump: new File([npz as Uint8Array<ArrayBuffer>], "dump.npz"),
      ...(o.estimator ? { estimator: JSON.stringify(o.estimator) } : {}),
    },
    bodySerializer: formData,
  });
}

/** GETs an analysis, checking the answer. */
async function getAnalysis(c: InfoplaneClient, id: string): Promise<Analysis> {
  const g = await c.GET("/v1/analyses/{id}", { params: { path: { id } } });
  assert.deepStrictEqual(g.response.status, 200, JSON.stringify(g.error));
  return AnalysisSchema.parse(g.data) as Analysis;
}

/** GETs an analysis as CSV. */
async function getCsv(c: InfoplaneClient, id: string) {
  const r = await c.GET("/v1/analyses/{id}.csv", { params: { path: { id } }, parseAs: "text" });
  assert.deepStrictEqual(r.response.status, 200, JSON.stringify(r.error));
  assert(r.response.headers.get("content-type")!.startsWith("text/csv"), "csv content type");
  return r.data!;
}

/** Checks the shape of a finished analysis; returns it (validated against its schema). */
function assertDone(
  r: Answer<Analysis> | Analysis,
  m: number,
  steps: number[],
  layers: string[],
): Done {
  let raw: unknown = r;
  if ("response" in r) {
    assert.deepStrictEqual(r.response.status, 200, String(JSON.stringify(r.error)).slice(0, 400));
    raw = r.data;
  }
  const a = AnalysisSchema.parse(raw) as Done;
  assert(typeof a.id === "string" && a.id.length > 0, "id");
  assert.deepStrictEqual(a.status, "done");
  assert.deepStrictEqual(a.m, m, "m");
  assert.deepStrictEqual(a.error, null);
  assert(a.reference && a.checkpoints && a.summary, "the result fields");
  assert.deepStrictEqual(
    Object.keys(a.estimator).sort(),
    [...ESTIMATOR_FIELDS].sort(),
    "estimator fields",
  );
  assert.deepStrictEqual(a.estimator.samples_used, m, "samples_used");
  assert(Number.isFinite(a.reference.nhsic_x_x) && a.reference.nhsic_x_x > 0, "nhsic_x_x");
  assert(Number.isFinite(a.reference.nhsic_y_y) && a.reference.nhsic_y_y > 0, "nhsic_y_y");
  assert.deepStrictEqual(a.checkpoints.map((c) => c.step), steps, "steps");
  for (const cp of a.checkpoints) {
    assert.deepStrictEqual(cp.layers.map((l) => l.name), layers, "layer names");
    for (const l of cp.layers) {
      assert.deepStrictEqual(Object.keys(l).sort(), [...LAYER_FIELDS].sort(), "layer fields");
      for (const k of LAYER_FIELDS.slice(1)) {
        const v = (l as unknown as Record<string, number>)[k];
        assert(Number.isFinite(v), `${l.name}.${k} = ${v}`);
      }
      assert.ok(
        Math.abs(l.nhsic_x_norm - (l.nhsic_x / a.reference.nhsic_x_x)) <=
          (1e-12) * Math.abs(l.nhsic_x / a.reference.nhsic_x_x),
        "x norm",
      );
      assert.ok(
        Math.abs(l.nhsic_y_norm - (l.nhsic_y / a.reference.nhsic_y_y)) <=
          (1e-12) * Math.abs(l.nhsic_y / a.reference.nhsic_y_y),
        "y norm",
      );
    }
  }
  assert.deepStrictEqual(a.summary.checkpoints, steps.length, "summary.checkpoints");
  assert.deepStrictEqual(a.summary.dynamics, steps.length > 1, "summary.dynamics");
  if (steps.length > 1) assert.deepStrictEqual(a.summary.note, null);
  else assert(typeof a.summary.note === "string" && a.summary.note.length > 0, "summary.note");
  assert.deepStrictEqual(a.links.self, `/v1/analyses/${a.id}`);
  return a;
}

Deno.test("api: single-checkpoint .npz dump, GET and CSV", async () => {
  await withService({}, async (svc) => {
    const c = api(svc);
    const npz = encodeNpz(makeDump({ m: 40, layers: { fc1: 8, fc2: 4, out: 3 }, seed: 2 }));
    const r = await postNpz(c, npz);
    const a = assertDone(r, 40, [0], ["fc1", "fc2", "out"]);
    assert.deepStrictEqual(r.response.headers.get("location"), `/v1/analyses/${a.id}`);
    assert.deepStrictEqual(a.num_classes, 3);
    assert.deepStrictEqual(a.estimator.kernel, "gaussian", "default kernel");
    assert.deepStrictEqual(a.estimator.batch_size, null);
    assert.deepStrictEqual(a.estimator.batches, 1);
    assert.deepStrictEqual(a.summary.differentiation, null, "no differentiation without dynamics");

    assert.deepStrictEqual(await getAnalysis(c, a.id), a, "GET returns what POST returned");

    const lines = (await getCsv(c, a.id)).trim().split(/\r?\n/);
    assert.deepStrictEqual(
      lines[0],
      "step,layer_index,layer,nhsic_x,nhsic_y,nhsic_x_norm,nhsic_y_norm,cka_x,cka_y",
    );
    assert.deepStrictEqual(lines.length, 1 + 3);
    const row = lines[2].split(",");
    assert.deepStrictEqual(row.slice(0, 3), ["0", "1", "fc2"]);
    assert.ok(
      Math.abs((Number(row[3])) - (a.checkpoints[0].layers[1].nhsic_x)) <=
        (1e-12) * Math.abs(a.checkpoints[0].layers[1].nhsic_x),
      "csv",
    );
  });
});

Deno.test("api: multi-checkpoint .npz dump has dynamics; CSV has checkpoints x layers rows", async () => {
  await withService({}, async (svc) => {
    const steps = [0, 100, 250];
    // Keys deliberately out of step order: the service sorts checkpoints by step.
    const arrays = makeDump({ m: 36, layers: { fc1: 6, fc2: 4 }, steps: [250, 0, 100], seed: 3 });
    const c = api(svc);
    const r = await postNpz(c, encodeNpz(arrays, { compress: true }));
    const a = assertDone(r, 36, steps, ["fc1", "fc2"]);
    assert.deepStrictEqual(a.summary.first_step, 0);
    assert.deepStrictEqual(a.summary.last_step, 250);
    assert(a.summary.differentiation !== null, "differentiation with dynamics");
    assert.deepStrictEqual(a.summary.layers.length, 2);

    assert.deepStrictEqual(resultOf(await getAnalysis(c, a.id)), resultOf(a));
    const lines = (await getCsv(c, a.id)).trim().split(/\r?\n/);
    assert.deepStrictEqual(lines.length, 1 + steps.length * 2);
    assert.deepStrictEqual(lines.slice(1).map((l) => l.split(",").slice(0, 3).join(",")), [
      "0,0,fc1",
      "0,1,fc2",
      "100,0,fc1",
      "100,1,fc2",
      "250,0,fc1",
      "250,1,fc2",
    ]);
  });
});

Deno.test("api: charts of a finished analysis through the running service", async () => {
  await withService({}, async (svc) => {
    const c = api(svc);
    const arrays = makeDump({ m: 24, layers: { fc1: 6, fc2: 4 }, steps: [0, 10], seed: 5 });
    const a = assertDone(await postNpz(c, encodeNpz(arrays)), 24, [0, 10], ["fc1", "fc2"]);
    const chart = (chart: "information-plane" | "nhsic-vs-step", format: "json" | "svg" | "png") =>
      c.GET("/v1/analyses/{id}/charts/{chart}.{format}", {
        params: { path: { id: a.id, chart, format } },
        parseAs: format === "json" ? "json" : format === "svg" ? "text" : "blob",
      });
    const spec = await chart("information-plane", "json");
    assert.deepStrictEqual(spec.response.status, 200);
    assert(String((spec.data as Record<string, unknown>).$schema).includes("vega-lite"));
    const svg = await chart("nhsic-vs-step", "svg");
    assert.deepStrictEqual(svg.response.status, 200);
    assert(String(svg.data).startsWith("<svg"), "an SVG document");
    const png = await chart("nhsic-vs-step", "png");
    assert.deepStrictEqual(png.response.headers.get("content-type"), "image/png");
    assert((png.data as Blob).size > 1000, "a PNG");
    // Unknown charts are 404s (the path is documented with the chart names as an enum).
    const missing = await c.GET("/v1/analyses/{id}/charts/{chart}.{format}", {
      params: { path: { id: a.id, chart: "no-such-chart" as "nhsic-vs-step", format: "svg" } },
    });
    assert.deepStrictEqual(missing.response.status, 404);
    assert.deepStrictEqual(missing.error?.field, "chart");
    const other = await c.GET("/v1/analyses/{id}/charts/{chart}.{format}", {
      params: {
        path: {
          id: "00000000-0000-0000-0000-000000000000",
          chart: "information-plane",
          format: "json",
        },
      },
    });
    assert.deepStrictEqual(other.response.status, 404);
  });
});

Deno.test("api: one file per array (x.npy, y.npy, fc1 as CSV, fc2 as .npy) matches the .npz", async () => {
  await withService({}, async (svc) => {
    const c = api(svc);
    const d = makeDump({ m: 30, layers: { fc1: 5, fc2: 4 }, seed: 4 });
    const file = (bytes: Uint8Array | string, name: string) => new File([bytes as BlobPart], name);
    const r = await c.POST("/v1/analyses", {
      body: {
        x: file(encodeNpy(d.x), "x.npy"),
        y: file(encodeNpy(d.y), "y.npy"),
        fc1: file(toCsv(d.fc1), "fc1.csv"),
        fc2: file(encodeNpy(d.fc2), "fc2.npy"),
      },
      bodySerializer: formData,
    });
    const a = assertDone(r, 30, [0], ["fc1", "fc2"]);
    const whole = assertDone(await postNpz(c, encodeNpz(d)), 30, [0], ["fc1", "fc2"]);
    // The CSV holds the float32 values printed in full, so both forms see the same numbers.
    for (let i = 0; i < 2; i++) {
      const p = a.checkpoints[0].layers[i], q = whole.checkpoints[0].layers[i];
      assert.ok(
        Math.abs(p.nhsic_x - q.nhsic_x) <= (1e-6) * Math.abs(q.nhsic_x),
        `${p.name} nhsic_x`,
      );
      assert.ok(
        Math.abs(p.nhsic_y - q.nhsic_y) <= (1e-6) * Math.abs(q.nhsic_y),
        `${p.name} nhsic_y`,
      );
    }
    assert.deepStrictEqual(a.reference, whole.reference);
  });
});

Deno.test("api: JSON body with layers and with checkpoints", async () => {
  await withService({}, async (svc) => {
    const c = api(svc);
    const d = makeDump({ m: 24, layers: { h1: 4, h2: 3 }, seed: 5 });
    const r1 = await c.POST("/v1/analyses", {
      body: { x: nested(d.x), y: nested(d.y), layers: { h1: nested(d.h1), h2: nested(d.h2) } },
    });
    const a1 = assertDone(r1, 24, [0], ["h1", "h2"]);
    const viaNpz = assertDone(await postNpz(c, encodeNpz(d)), 24, [0], ["h1", "h2"]);
    // JSON numbers are float64 copies of the same float32 values.
    assert.ok(
      Math.abs((a1.checkpoints[0].layers[0].nhsic_x) - (viaNpz.checkpoints[0].layers[0].nhsic_x)) <=
        (1e-9) * Math.abs(viaNpz.checkpoints[0].layers[0].nhsic_x),
      "json vs npz",
    );

    const m = makeDump({ m: 24, layers: { h1: 4 }, steps: [0, 10], seed: 6 });
    // One-hot labels in the JSON form.
    const onehot = Array.from(m.y.data as Int32Array, (c) => [0, 1, 2].map((k) => k === c ? 1 : 0));
    const r2 = await c.POST("/v1/analyses", {
      body: {
        x: nested(m.x),
        y: onehot,
        checkpoints: [
          { step: 10, layers: { h1: nested(m["10/h1"]) } },
          { step: 0, layers: { h1: nested(m["0/h1"]) } },
        ],
      },
    });
    const a2 = assertDone(r2, 24, [0, 10], ["h1"]);
    assert.deepStrictEqual(a2.num_classes, 3);
    assert.deepStrictEqual(a2.summary.dynamics, true);
    assert.deepStrictEqual(await getAnalysis(c, a2.id), a2);
  });
});

Deno.test("api: estimator settings via multipart field and JSON body are applied and reported", async () => {
  await withService({}, async (svc) => {
    const c = api(svc);
    const d = makeDump({ m: 64, layers: { fc1: 6 }, seed: 7 });
    const estimator = { kernel: "linear", sigma: "median", batch_size: 32 } as const;
    const viaForm = assertDone(await postNpz(c, encodeNpz(d), { estimator }), 64, [0], ["fc1"]);
    const e = viaForm.estimator;
    assert.deepStrictEqual(e.kernel, "linear");
    assert.deepStrictEqual(e.sigma, "median");
    assert.deepStrictEqual(e.batch_size, 32);
    assert.deepStrictEqual(e.batches, 2);
    assert.deepStrictEqual(e.samples_used, 64);
    // Unset fields keep their defaults.
    assert.deepStrictEqual(e.distance, "squared");
    assert.deepStrictEqual(e.eps, 1e-5);
    assert.deepStrictEqual(e.centring, "right");
    assert.deepStrictEqual(e.label_kernel, "linear");
    assert.deepStrictEqual(e.label_centring, "none");

    const viaJson = assertDone(
      await c.POST("/v1/analyses", {
        body: { x: nested(d.x), y: nested(d.y), layers: { fc1: nested(d.fc1) }, estimator },
      }),
      64,
      [0],
      ["fc1"],
    );
    assert.deepStrictEqual(viaJson.estimator, e);
    assert.ok(
      Math.abs(
        (viaJson.checkpoints[0].layers[0].nhsic_x) - (viaForm.checkpoints[0].layers[0].nhsic_x),
      ) <= (1e-9) * Math.abs(viaForm.checkpoints[0].layers[0].nhsic_x),
      "same estimate",
    );

    // The settings change the numbers: the default (Gaussian, exact) differs.
    const plain = assertDone(await postNpz(c, encodeNpz(d)), 64, [0], ["fc1"]);
    const [p, q] = [plain, viaForm].map((a) => a.checkpoints[0].layers[0].nhsic_x);
    assert(Math.abs(p - q) > 1e-6 * Math.abs(p), "estimator settings had no effect");
    const g = await getAnalysis(c, viaForm.id);
    assert.deepStrictEqual(g.estimator, e, "GET reports the estimator");
  });
});

Deno.test("api: ?async=true answers 202 and polling gives the sync numbers", async () => {
  await withService({}, async (svc) => {
    const c = api(svc);
    const npz = encodeNpz(makeDump({ m: 48, layers: { fc1: 7, fc2: 5 }, steps: [0, 5], seed: 8 }));
    const sync = assertDone(await postNpz(c, npz), 48, [0, 5], ["fc1", "fc2"]);

    const r = await postNpz(c, npz, { async: true });
    assert.deepStrictEqual(r.response.status, 202, JSON.stringify(r.error));
    const queued = AnalysisSchema.parse(r.data);
    const loc = r.response.headers.get("location");
    assert.deepStrictEqual(loc, `/v1/analyses/${queued.id}`);
    assert(["queued", "running"].includes(queued.status), `status ${queued.status}`);
    assert.deepStrictEqual(queued.m, 48);
    assert.deepStrictEqual(queued.checkpoints, undefined, "no result yet");

    const done = assertDone(await waitForJob(c, "analysis", queued.id), 48, [0, 5], ["fc1", "fc2"]);
    assert(done.progress && done.progress.fraction === 1, JSON.stringify(done.progress));
    assert.deepStrictEqual(resultOf(done), resultOf(sync), "async result equals the sync result");
    assert.deepStrictEqual((await getCsv(c, queued.id)).trim().split(/\r?\n/).length, 1 + 4);
  });
});

Deno.test("api: a layer identical to x has nhsic_x == nHSIC(X;X)", async () => {
  await withService({}, async (svc) => {
    const d = makeDump({ m: 50, dx: 8, layers: { fc1: 6 }, seed: 9 });
    const npz = encodeNpz({ x: d.x, y: d.y, copy: d.x, fc1: d.fc1 });
    const a = assertDone(await postNpz(api(svc), npz), 50, [0], ["copy", "fc1"]);
    const copy = a.checkpoints[0].layers[0];
    assert.ok(
      Math.abs(copy.nhsic_x - a.reference.nhsic_x_x) <= (1e-9) * Math.abs(a.reference.nhsic_x_x),
      "nhsic_x(copy of x)",
    );
    assert.ok(Math.abs(copy.nhsic_x_norm - 1) <= (1e-9) * Math.abs(1), "normalised");
    assert.ok(Math.abs(copy.cka_x - 1) <= (1e-9) * Math.abs(1), "cka_x");
    // A layer that only partly depends on x carries less about it.
    assert(a.checkpoints[0].layers[1].nhsic_x < a.reference.nhsic_x_x, "data processing");
  });
});

Deno.test("api: every measure, similarity maps and a sweep come back as the schemas say", async () => {
  await withService({}, async (svc) => {
    const c = api(svc);
    const d = makeDump({ m: 32, layers: { fc1: 5, fc2: 3 }, steps: [0, 10], seed: 11 });
    const r = await c.POST("/v1/analyses", {
      body: {
        x: nested(d.x),
        y: nested(d.y),
        checkpoints: [0, 10].map((step) => ({
          step,
          layers: { fc1: nested(d[`${step}/fc1`]), fc2: nested(d[`${step}/fc2`]) },
        })),
        measures: [
          "nhsic",
          "hsic",
          "cka_linear",
          "cka_gaussian",
          "cka_debiased",
          "mi_binning",
          "mi_kde",
        ],
        measure_options: { bins: 8 },
        similarity: ["cka_linear", "nhsic"],
        sweep: { sigma: [1, 5], eps: [1e-5, 1e-3] },
      },
    });
    assert.deepStrictEqual(r.response.status, 200, String(JSON.stringify(r.error)));
    // Strict: a field the schema does not know (or a missing one) fails here.
    const a = AnalysisSchema.parse(r.data);
    assert.deepStrictEqual(a.measures?.bins, 8);
    assert(a.checkpoints![0].layers[0].mi_kde_y !== undefined, "measure fields");
    assert.deepStrictEqual(a.similarity?.length, 2 * 2, "checkpoints x measures");
    assert.deepStrictEqual(a.checkpoint_similarity?.length, 2 * 2, "layers x measures");
    assert.deepStrictEqual(a.sweep?.length, 4);
    assert.deepStrictEqual(a.robustness?.settings, 4);
    assert.deepStrictEqual(a.options.sweep, { sigma: [1, 5], eps: [1e-5, 1e-3] });
  });
});
