import assert from "node:assert/strict";
import {
  call,
  encodeNpy,
  encodeNpz,
  makeDump,
  postForm,
  postJson,
  postNpz,
  type Reply,
  resultOf,
  toCsv,
  toNested,
  waitDone,
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

/** Checks the shape of a finished analysis; returns its body. */
// deno-lint-ignore no-explicit-any
function assertDone(r: Reply, m: number, steps: number[], layers: string[]): any {
  assert.deepStrictEqual(r.status, 200, r.text.slice(0, 400));
  const a = r.body;
  assert(typeof a.id === "string" && a.id.length > 0, "id");
  assert.deepStrictEqual(a.status, "done");
  assert.deepStrictEqual(a.m, m, "m");
  assert.deepStrictEqual(a.error, null);
  assert.deepStrictEqual(
    Object.keys(a.estimator).sort(),
    [...ESTIMATOR_FIELDS].sort(),
    "estimator fields",
  );
  assert.deepStrictEqual(a.estimator.samples_used, m, "samples_used");
  assert(Number.isFinite(a.reference.nhsic_x_x) && a.reference.nhsic_x_x > 0, "nhsic_x_x");
  assert(Number.isFinite(a.reference.nhsic_y_y) && a.reference.nhsic_y_y > 0, "nhsic_y_y");
  assert.deepStrictEqual(a.checkpoints.map((c: { step: number }) => c.step), steps, "steps");
  for (const cp of a.checkpoints) {
    assert.deepStrictEqual(cp.layers.map((l: { name: string }) => l.name), layers, "layer names");
    for (const l of cp.layers) {
      assert.deepStrictEqual(Object.keys(l).sort(), [...LAYER_FIELDS].sort(), "layer fields");
      for (const k of LAYER_FIELDS.slice(1)) {
        assert(Number.isFinite(l[k]), `${l.name}.${k} = ${l[k]}`);
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
    const npz = encodeNpz(makeDump({ m: 40, layers: { fc1: 8, fc2: 4, out: 3 }, seed: 2 }));
    const r = await postNpz(svc, npz);
    const a = assertDone(r, 40, [0], ["fc1", "fc2", "out"]);
    assert.deepStrictEqual(r.headers.get("location"), `/v1/analyses/${a.id}`);
    assert.deepStrictEqual(a.num_classes, 3);
    assert.deepStrictEqual(a.estimator.kernel, "gaussian", "default kernel");
    assert.deepStrictEqual(a.estimator.batch_size, null);
    assert.deepStrictEqual(a.estimator.batches, 1);
    assert.deepStrictEqual(a.summary.differentiation, null, "no differentiation without dynamics");

    const g = await call(svc, `/v1/analyses/${a.id}`);
    assert.deepStrictEqual(g.status, 200);
    assert.deepStrictEqual(g.body, a, "GET returns what POST returned");

    const csv = await call(svc, `/v1/analyses/${a.id}.csv`);
    assert.deepStrictEqual(csv.status, 200);
    assert(csv.headers.get("content-type")!.startsWith("text/csv"), "csv content type");
    const lines = csv.text.trim().split(/\r?\n/);
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
    const r = await postNpz(svc, encodeNpz(arrays, { compress: true }));
    const a = assertDone(r, 36, steps, ["fc1", "fc2"]);
    assert.deepStrictEqual(a.summary.first_step, 0);
    assert.deepStrictEqual(a.summary.last_step, 250);
    assert(a.summary.differentiation !== null, "differentiation with dynamics");
    assert.deepStrictEqual(a.summary.layers.length, 2);

    const g = await call(svc, `/v1/analyses/${a.id}`);
    assert.deepStrictEqual(resultOf(g.body), resultOf(a));
    const csv = await call(svc, `/v1/analyses/${a.id}.csv`);
    assert.deepStrictEqual(csv.status, 200);
    const lines = csv.text.trim().split(/\r?\n/);
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
    const arrays = makeDump({ m: 24, layers: { fc1: 6, fc2: 4 }, steps: [0, 10], seed: 5 });
    const a = (await postNpz(svc, encodeNpz(arrays))).body;
    const spec = await call(svc, `/v1/analyses/${a.id}/charts/information-plane.json`);
    assert.deepStrictEqual(spec.status, 200);
    assert(String(spec.body.$schema).includes("vega-lite"), "a Vega-Lite spec");
    const svg = await call(svc, `/v1/analyses/${a.id}/charts/nhsic-vs-step.svg`);
    assert.deepStrictEqual(svg.status, 200);
    assert(svg.text.startsWith("<svg"), "an SVG document");
    const missing = await call(svc, `/v1/analyses/${a.id}/charts/no-such-chart.svg`);
    assert.deepStrictEqual(missing.status, 404);
    const other = await call(
      svc,
      `/v1/analyses/00000000-0000-0000-0000-000000000000/charts/information-plane.json`,
    );
    assert.deepStrictEqual(other.status, 404);
  });
});

Deno.test("api: one file per array (x.npy, y.npy, fc1 as CSV, fc2 as .npy) matches the .npz", async () => {
  await withService({}, async (svc) => {
    const d = makeDump({ m: 30, layers: { fc1: 5, fc2: 4 }, seed: 4 });
    const r = await postForm(svc, {
      x: { bytes: encodeNpy(d.x), name: "x.npy" },
      y: { bytes: encodeNpy(d.y), name: "y.npy" },
      fc1: { bytes: toCsv(d.fc1), name: "fc1.csv" },
      fc2: { bytes: encodeNpy(d.fc2), name: "fc2.npy" },
    });
    const a = assertDone(r, 30, [0], ["fc1", "fc2"]);
    const whole = assertDone(await postNpz(svc, encodeNpz(d)), 30, [0], ["fc1", "fc2"]);
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
    const d = makeDump({ m: 24, layers: { h1: 4, h2: 3 }, seed: 5 });
    const r1 = await postJson(svc, {
      x: toNested(d.x),
      y: toNested(d.y),
      layers: { h1: toNested(d.h1), h2: toNested(d.h2) },
    });
    const a1 = assertDone(r1, 24, [0], ["h1", "h2"]);
    const viaNpz = assertDone(await postNpz(svc, encodeNpz(d)), 24, [0], ["h1", "h2"]);
    // JSON numbers are float64 copies of the same float32 values.
    assert.ok(
      Math.abs((a1.checkpoints[0].layers[0].nhsic_x) - (viaNpz.checkpoints[0].layers[0].nhsic_x)) <=
        (1e-9) * Math.abs(viaNpz.checkpoints[0].layers[0].nhsic_x),
      "json vs npz",
    );

    const m = makeDump({ m: 24, layers: { h1: 4 }, steps: [0, 10], seed: 6 });
    // One-hot labels in the JSON form.
    const onehot = Array.from(m.y.data as Int32Array, (c) => [0, 1, 2].map((k) => k === c ? 1 : 0));
    const r2 = await postJson(svc, {
      x: toNested(m.x),
      y: onehot,
      checkpoints: [
        { step: 10, layers: { h1: toNested(m["10/h1"]) } },
        { step: 0, layers: { h1: toNested(m["0/h1"]) } },
      ],
    });
    const a2 = assertDone(r2, 24, [0, 10], ["h1"]);
    assert.deepStrictEqual(a2.num_classes, 3);
    assert.deepStrictEqual(a2.summary.dynamics, true);
    const g = await call(svc, `/v1/analyses/${a2.id}`);
    assert.deepStrictEqual(g.body, a2);
  });
});

Deno.test("api: estimator settings via multipart field and JSON body are applied and reported", async () => {
  await withService({}, async (svc) => {
    const d = makeDump({ m: 64, layers: { fc1: 6 }, seed: 7 });
    const estimator = { kernel: "linear", sigma: "median", batch_size: 32 };
    const viaForm = assertDone(await postNpz(svc, encodeNpz(d), { estimator }), 64, [0], ["fc1"]);
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
      await postJson(svc, {
        x: toNested(d.x),
        y: toNested(d.y),
        layers: { fc1: toNested(d.fc1) },
        estimator,
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
    const plain = assertDone(await postNpz(svc, encodeNpz(d)), 64, [0], ["fc1"]);
    const [p, q] = [plain, viaForm].map((a) => a.checkpoints[0].layers[0].nhsic_x);
    assert(Math.abs(p - q) > 1e-6 * Math.abs(p), "estimator settings had no effect");
    const g = await call(svc, `/v1/analyses/${viaForm.id}`);
    assert.deepStrictEqual(g.body.estimator, e, "GET reports the estimator");
  });
});

Deno.test("api: ?async=true answers 202 and polling gives the sync numbers", async () => {
  await withService({}, async (svc) => {
    const npz = encodeNpz(makeDump({ m: 48, layers: { fc1: 7, fc2: 5 }, steps: [0, 5], seed: 8 }));
    const sync = assertDone(await postNpz(svc, npz), 48, [0, 5], ["fc1", "fc2"]);

    const r = await postNpz(svc, npz, { async: true });
    assert.deepStrictEqual(r.status, 202, r.text);
    const loc = r.headers.get("location");
    assert.deepStrictEqual(loc, `/v1/analyses/${r.body.id}`);
    assert(["queued", "running"].includes(r.body.status), `status ${r.body.status}`);
    assert.deepStrictEqual(r.body.m, 48);
    assert.deepStrictEqual(r.body.checkpoints, undefined, "no result yet");

    const done = await waitDone(svc, r.body.id);
    assert.deepStrictEqual(done.body.status, "done");
    assertDone(done, 48, [0, 5], ["fc1", "fc2"]);
    assert.deepStrictEqual(
      resultOf(done.body),
      resultOf(sync),
      "async result equals the sync result",
    );
    const csv = await call(svc, `${loc}.csv`);
    assert.deepStrictEqual(csv.status, 200);
    assert.deepStrictEqual(csv.text.trim().split(/\r?\n/).length, 1 + 4);
  });
});

Deno.test("api: a layer identical to x has nhsic_x == nHSIC(X;X)", async () => {
  await withService({}, async (svc) => {
    const d = makeDump({ m: 50, dx: 8, layers: { fc1: 6 }, seed: 9 });
    const npz = encodeNpz({ x: d.x, y: d.y, copy: d.x, fc1: d.fc1 });
    const a = assertDone(await postNpz(svc, npz), 50, [0], ["copy", "fc1"]);
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
