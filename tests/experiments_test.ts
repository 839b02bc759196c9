/**
 * The experiment suite: every definition resolves to valid training jobs at both public scales;
 * a micro-scale run of each experiment produces results (one seed, a test-only override); the
 * probed training loop returns what runTrainingOn returns; the toy data has the structure its
 * documentation claims; SNNL matches a value computed by hand; experiment jobs run through the
 * training engine and the API (submit, poll, report, figures, cancel, 404s).
 */
import assert from "node:assert/strict";
import { ExperimentSchema } from "../routes/schemas.ts";
import {
  dirRunStore,
  ESTIMATOR_SWEEP,
  executeRun,
  EXPERIMENT_NAMES,
  EXPERIMENTS,
  PUBLIC_SCALES,
  type RunExecutor,
  runExperimentRun,
  runSuite,
  runTrainingProbed,
  selectExperiments,
  type SuiteResult,
  suiteRuns,
  suiteSize,
  sweptRuns,
  TOY_SHORTCUT_FLIP,
  toyDataset,
} from "../lib/experiments/mod.ts";
import {
  medianOffDiagonal,
  snnl,
  snnlFromDistances,
  squaredDistances,
} from "../lib/metrics/snnl.ts";
import { InputError } from "../lib/errors.ts";
import { checkJobAgainstInput, resolveTrainingRequest } from "../lib/train/mod.ts";
import { runTrainingOn } from "../lib/train/mod.ts";
import type { TrainingResult } from "../lib/train/mod.ts";
import { mnist } from "./train_helpers.ts";
import { withTrainingService } from "./trainings_helpers.ts";

/** Canonical Fashion-MNIST files of the development workspace (tests do not download). */
const FASHION_DIR = new URL("../../shared/data/fashion-mnist", import.meta.url).pathname;
const hasFashion = (() => {
  try {
    return Deno.statSync(`${FASHION_DIR}/t10k-labels-idx1-ubyte.gz`).isFile;
  } catch {
    return false;
  }
})();

Deno.test("experiment definitions resolve to valid training jobs at both scales", () => {
  for (const scale of PUBLIC_SCALES) {
    const keys = new Set<string>();
    for (const name of EXPERIMENT_NAMES) {
      const runs = EXPERIMENTS[name].runs(scale);
      assert(runs.length > 0, `${name} ${scale}: no runs`);
      const seeds = new Set(runs.map((r) => r.seed));
      assert(seeds.size >= 3, `${name} ${scale}: ${seeds.size} seeds`);
      const settings = EXPERIMENTS[name].settings(scale);
      assert(settings.description.length > 0 && settings.seeds.length >= 3);
      for (const r of runs) {
        assert(!keys.has(r.key), `duplicate run key ${r.key}`);
        keys.add(r.key);
        assert.deepStrictEqual(r.experiment, name);
        const job = resolveTrainingRequest(r.request);
        assert.deepStrictEqual(job.seed, r.seed);
        assert(job.methods.length >= 2, `${r.key}: fewer than two methods`);
        if (r.toy) checkJobAgainstInput(job, [3], 2); // uploads are checked once loaded
        if (scale === "full") {
          assert(job.dataset.train_limit === undefined, `${r.key}: full scale uses all data`);
        }
      }
    }
  }
  // A suite job's progress counts every method of every run.
  const size = suiteSize({ names: ["toy"], scale: "cpu", backend: "auto", command: "t" });
  assert.deepStrictEqual(size.method_trainings, 9);
  assert.deepStrictEqual(size.runs, 3);
});

Deno.test("suites refuse fewer than three seeds outside micro and unknown names", () => {
  assert.throws(
    () => EXPERIMENTS.toy.runs("cpu", { seeds: [0] }),
    (e: unknown) => e instanceof InputError && e.message.includes("at least 3 seeds"),
  );
  assert.deepStrictEqual(EXPERIMENTS.toy.runs("micro", { seeds: [0] }).length, 1);
  assert.throws(
    () => selectExperiments(["toy", "nope"]),
    (e: unknown) => e instanceof InputError && e.message.includes('unknown experiment "nope"'),
  );
  assert.deepStrictEqual(selectExperiments(["entanglement", "toy"]), ["toy", "entanglement"]);
  assert.deepStrictEqual(selectExperiments([]).length, EXPERIMENT_NAMES.length);
});

Deno.test({
  name: "a micro-scale run of every experiment produces structured results",
  ignore: !hasFashion,
  fn: async () => {
    const suite = await runSuite({
      scale: "micro",
      seeds: [0],
      dataDir: await Deno.makeTempDir({ prefix: "infoplane-exp-" }),
      datasetDirs: { "fashion-mnist": FASHION_DIR },
      command: "test",
    });
    assert.deepStrictEqual(suite.names, [...EXPERIMENT_NAMES]);
    assert.deepStrictEqual(suite.failures, []);
    assert(suite.wall_seconds > 0 && suite.backend.name !== "none");
    const fashion = suite.datasets.find((d) => d.name === "fashion-mnist")!;
    assert(fashion.md5_verified && fashion.source.includes(FASHION_DIR));
    for (const e of suite.experiments) {
      assert.deepStrictEqual(
        e.runs.length,
        suiteRuns([e.name], "micro", { seeds: [0] }).length,
        e.name,
      );
      assert(e.wall_seconds >= 0 && e.settings.description.length > 0, e.name);
      assert(Object.keys(e.summary).length > 0, `${e.name}: empty summary`);
      for (const r of e.runs) {
        assert(r.result.methods.every((m) => Number.isFinite(m.final_test_accuracy)), r.key);
      }
    }
    const toy = suite.experiments.find((e) => e.name === "toy")!.runs[0];
    const last = toy.probes!.filter((p) => p.method === "e2e").at(-1)!;
    assert.deepStrictEqual(last.layers.map((l) => l.name), ["fc1", "fc2", "fc3", "logits"]);
    assert(last.layers.every((l) => Number.isFinite(l.nhsic_u_norm) && Number.isFinite(l.nhsic_e)));
    const ent = suite.experiments.find((e) => e.name === "entanglement")!.runs[0];
    const probes = ent.probes!;
    // One probe per tracking point and method.
    assert.deepStrictEqual(
      probes.length,
      ent.result.methods.reduce((n, m) => n + m.curves.length, 0),
    );
    assert(probes.every((p) => p.layers.every((l) => l.snnl! >= 0) && p.input_snnl! > 0));
    // Results are plain JSON.
    const back = JSON.parse(JSON.stringify(suite)) as SuiteResult;
    assert.deepStrictEqual(back.experiments.length, EXPERIMENT_NAMES.length);
  },
});

Deno.test("the probed loop returns exactly what runTrainingOn returns", async () => {
  const ds = await mnist(96, 40);
  const job = resolveTrainingRequest({
    model: { preset: "mlp", depth: 2, width: 12 },
    dataset: { name: "mnist", train_limit: 96, test_limit: 40 },
    methods: [{ name: "e2e" }, { name: "layerwise" }, { name: "sequential" }],
    optimizer: { epochs: 2, batch_size: 32 },
    tracking: { probe_size: 32, probe_batch: 16, first_epoch_points: 1 },
    seed: 3,
    backend: "wasm",
  });
  const strip = (r: TrainingResult) =>
    JSON.parse(JSON.stringify(r, (k, v) => (k === "seconds" ? 0 : v)));
  const plain = await runTrainingOn(job, ds, {});
  const steps: string[] = [];
  const probed = await runTrainingProbed(job, ds, {}, (net, step, m) => {
    assert.deepStrictEqual(net.trackedNames, ["fc1", "fc2", "logits"]);
    steps.push(`${m.label}@${step}`);
  });
  assert.deepStrictEqual(strip(probed), strip(plain));
  assert.deepStrictEqual(
    steps.filter((s) => s.startsWith("e2e@")),
    plain.methods[0].curves.map((c) => `e2e@${c.step}`),
  );
});

Deno.test("toy data: XOR label, shortcut right about 80% of the time, deterministic", () => {
  const ds = toyDataset({ train: 4000, test: 10, seed: 5 });
  assert.deepStrictEqual(ds.shape, [3]);
  let agree = 0;
  for (let i = 0; i < ds.train.n; i++) {
    const [e, u, v] = ds.train.x.subarray(i * 3, i * 3 + 3);
    assert.deepStrictEqual(ds.train.y[i], u * v > 0 ? 1 : 0);
    if ((e > 0 ? 1 : 0) === ds.train.y[i]) agree++;
  }
  // The shortcut's sign is flipped w.p. 0.2 and blurred by N(0, 0.3): ~0.8 * 0.9996 + ~0.0004.
  assert.ok(Math.abs((agree / ds.train.n) - (1 - TOY_SHORTCUT_FLIP)) <= 0.03);
  assert.deepStrictEqual(toyDataset({ train: 4000, test: 10, seed: 5 }).train.x, ds.train.x);
});

Deno.test("SNNL matches a hand-computed value", () => {
  // Four points on a line, two classes: {0, 1} and {3, 4}; T = 1, no stability constant.
  const x = new Float64Array([0, 1, 3, 4]);
  const labels = [0, 0, 1, 1];
  const dist = squaredDistances(x, 4, 1);
  assert.deepStrictEqual(Array.from(dist), [0, 1, 9, 16, 1, 0, 4, 9, 9, 4, 0, 1, 16, 9, 1, 0]);
  // Point 0: its class-mate is at squared distance 1, the others at 9 and 16, so its ratio is
  // e^-1 / (e^-1 + e^-9 + e^-16); point 1: e^-1 / (e^-1 + e^-4 + e^-9); 2 and 3 mirror 1 and 0.
  const r0 = Math.exp(-1) / (Math.exp(-1) + Math.exp(-9) + Math.exp(-16));
  const r1 = Math.exp(-1) / (Math.exp(-1) + Math.exp(-4) + Math.exp(-9));
  const expected = -(2 * Math.log(r0) + 2 * Math.log(r1)) / 4;
  assert.ok(Math.abs(expected - 0.0246213) <= 1e-6); // the number itself, for the record
  assert.ok(Math.abs((snnlFromDistances(dist, labels, 4, 1, 0)) - expected) <= 1e-12);
  // The reference implementation's constant inside the log.
  const withEps = -(2 * Math.log(1e-5 + r0) + 2 * Math.log(1e-5 + r1)) / 4;
  assert.ok(Math.abs((snnlFromDistances(dist, labels, 4, 1)) - withEps) <= 1e-12);
  // Temperatures far below the distances do not underflow: the nearest neighbour decides.
  assert.ok(Math.abs((snnlFromDistances(dist, labels, 4, 1e-3, 0)) - 0) <= 1e-12);
  // The minimum over the grid is at most the value at any grid temperature, and entangled
  // labels score higher than separated ones.
  const med = medianOffDiagonal(dist, 4);
  assert.deepStrictEqual(med, (4 + 9) / 2);
  const best = snnl(x, 4, 1, labels);
  assert(best.curve.every((v) => v >= best.snnl));
  assert.ok(
    Math.abs(best.snnl - (snnlFromDistances(dist, labels, 4, best.temperature_factor * med))) <=
      1e-12,
  );
  assert(snnl(x, 4, 1, [0, 1, 0, 1]).snnl > best.snnl + 0.5);
});

/** A real service (real experiment runner, micro scale allowed); `request` calls it. */
async function withExperimentApp(
  fn: (request: (path: string, init?: RequestInit) => Promise<Response>) => Promise<void>,
): Promise<void> {
  await withTrainingService({ INFOPLANE_TRAINING_RUNNER: "" }, async (svc) => {
    await fn((path, init) => fetch(svc.url + path, init));
  });
}

Deno.test("experiment suites run as jobs through the API", async () => {
  await withExperimentApp(async (request) => {
    const post = (body: unknown) =>
      request("/v1/experiments", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const cat = await (await request("/v1/experiments")).json();
    assert.deepStrictEqual(cat.experiments.map((e: { name: string }) => e.name), [
      ...EXPERIMENT_NAMES,
    ]);
    assert.deepStrictEqual(cat.claims.length, 6);
    assert(cat.experiments[0].scales.cpu.seeds.length >= 3);

    const bad = await post({ names: ["toy", "nope"] });
    assert.deepStrictEqual(bad.status, 422);
    await bad.body?.cancel();
    const both = await post({ name: "toy", names: ["toy"] });
    assert.deepStrictEqual(both.status, 422);
    await both.body?.cancel();

    const res = await post({ name: "toy", scale: "micro" });
    assert.deepStrictEqual(res.status, 202);
    const created = await res.json();
    assert.deepStrictEqual(res.headers.get("location"), `/v1/experiments/${created.id}`);
    assert.deepStrictEqual(created.request, { names: ["toy"], scale: "micro", backend: "auto" });
    assert.deepStrictEqual(created.runs, 3);
    const early = await request(`/v1/experiments/${created.id}/report.md`);
    assert(early.status === 409 || early.status === 200);
    await early.body?.cancel();

    let rec = created;
    for (let i = 0; i < 600 && !["done", "failed", "cancelled"].includes(rec.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      rec = await (await request(`/v1/experiments/${created.id}`)).json();
    }
    assert.deepStrictEqual(rec.status, "done", JSON.stringify(rec.error));
    ExperimentSchema.parse(rec); // the real suite result, strictly as the document describes it
    assert.deepStrictEqual(rec.result.kind, "infoplane-experiment-suite");
    assert.deepStrictEqual(rec.verdicts.length, 6);
    const v2 = rec.verdicts.find((v: { number: number }) => v.number === 2);
    assert(v2.parts.find((p: { id: string }) => p.id === "2b").holds !== null);
    assert.deepStrictEqual(
      rec.verdicts.find((v: { number: number }) => v.number === 1).verdict,
      "not tested",
    );
    assert.deepStrictEqual(rec.progress.methods_done, rec.progress.methods_total);

    const md = await request(`/v1/experiments/${created.id}/report.md`);
    assert.deepStrictEqual(md.status, 200);
    const text = await md.text();
    assert(text.includes("## Claim 6") && text.includes("not tested"));
    const fig = text.match(/\]\(figures\/([a-z0-9-]+)\.png\)/)![1];
    const png = await request(`/v1/experiments/${created.id}/figures/${fig}.png`);
    assert.deepStrictEqual(png.headers.get("content-type"), "image/png");
    assert.deepStrictEqual(
      new Uint8Array(await png.arrayBuffer()).slice(1, 4),
      new TextEncoder().encode("PNG"),
    );
    const html = await request(`/v1/experiments/${created.id}/report.html`);
    const page = await html.text();
    assert(page.startsWith("<!doctype html>") && page.includes("<svg"));
    for (
      const [path, status] of [
        [`/v1/experiments/${created.id}/report.pdf`, 404],
        [`/v1/experiments/${created.id}/figures/nope.png`, 404],
        [`/v1/experiments/nope`, 404],
      ] as const
    ) {
      const r = await request(path);
      assert.deepStrictEqual(r.status, status, path);
      await r.body?.cancel();
    }
    const again = await request(`/v1/experiments/${created.id}/cancel`, { method: "POST" });
    assert.deepStrictEqual(again.status, 409);
    await again.body?.cancel();
    const events = await (await request(`/v1/experiments/${created.id}/events`)).text();
    assert(events.includes("event: method_done") && events.includes("event: end"), events);
    const gone = await request(`/v1/experiments/${created.id}`, { method: "DELETE" });
    assert.deepStrictEqual(gone.status, 204);
    const after = await request(`/v1/experiments/${created.id}`);
    assert.deepStrictEqual(after.status, 404);
    await after.body?.cancel();
    // The routes are in the OpenAPI document.
    const doc = await (await request("/openapi.json")).json();
    assert(doc.paths["/v1/experiments/{id}/report.{format}"] && doc.paths["/v1/experiments"]);
  });
});

Deno.test("one run of a suite runs on its own, as the CLI's Web Workers run it", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "infoplane-exp-runner-" });
  const spec = EXPERIMENTS.toy.runs("micro", { seeds: [1] })[0];
  const events: string[] = [];
  const rec = await runExperimentRun(spec, {
    dataDir,
    onEvent: (e) => e.type === "method_done" && events.push(e.method),
  });
  assert.deepStrictEqual(rec.key, spec.key);
  assert.deepStrictEqual(events, rec.result.methods.map((m) => `${spec.key} · ${m.method.label}`));
  await Deno.remove(dataDir, { recursive: true });
});

Deno.test("the estimator sweep measures the tracked activations again under every setting", async () => {
  const spec = structuredClone(
    EXPERIMENTS["information-dynamics"].runs("micro", { seeds: [0] })[0],
  );
  // 128 probe samples in one batch, so that the tracking's estimator is one of the sweep's.
  spec.request.tracking = { ...spec.request.tracking, probe_batch: 128, probe_size: 128 };
  spec.request.dataset = {
    ...spec.request.dataset,
    test_limit: 128,
  } as typeof spec.request.dataset;
  assert(spec.probe?.estimator_sweep);
  const rec = await executeRun(spec, {
    dataDir: await Deno.makeTempDir({ prefix: "infoplane-exp-" }),
  });
  assert.deepStrictEqual(rec.sweep_settings!.length, ESTIMATOR_SWEEP.length);
  assert.deepStrictEqual(ESTIMATOR_SWEEP.length, 12);
  const own = rec.sweep_settings!.find((s) =>
    JSON.stringify(s.estimator) === JSON.stringify(rec.result.tracking.estimator)
  )!;
  assert.deepStrictEqual(own.id, "squared-s5-m128");
  // Under the tracking's own setting the re-analysed run is the tracked one (to 6 digits).
  const [same] = sweptRuns([rec], own);
  rec.result.methods.forEach((m, mi) => {
    const a = m.analysis, b = same.result.methods[mi].analysis;
    assert.deepStrictEqual(b.checkpoints.map((c) => c.step), a.checkpoints.map((c) => c.step));
    a.checkpoints.forEach((cp, ci) =>
      cp.layers.forEach((l, li) => {
        const o = b.checkpoints[ci].layers[li];
        assert(Math.abs(o.nhsic_x - l.nhsic_x) <= 1e-5 * Math.abs(l.nhsic_x), `${l.name} x`);
        assert(Math.abs(o.nhsic_y - l.nhsic_y) <= 1e-5 * Math.abs(l.nhsic_y) + 1e-9, `${l.name} y`);
      })
    );
    assert.deepStrictEqual(b.summary.layers.length, a.summary.layers.length);
  });
  // Another setting gives other values.
  const plain = sweptRuns([rec], rec.sweep_settings!.find((s) => s.id === "plain-s1-m128")!)[0];
  assert.notDeepStrictEqual(
    plain.result.methods[0].analysis.checkpoints.at(-1)!.layers[0].nhsic_x,
    rec.result.methods[0].analysis.checkpoints.at(-1)!.layers[0].nhsic_x,
  );
});

Deno.test("an interrupted suite continues from the runs it finished", async () => {
  const dir = await Deno.makeTempDir({ prefix: "infoplane-resume-" });
  const dataDir = await Deno.makeTempDir({ prefix: "infoplane-exp-" });
  const trained: string[] = [];
  const counting: RunExecutor = (spec, ctx) => {
    trained.push(spec.key);
    return executeRun(spec, ctx);
  };
  const first = await runSuite({
    scale: "micro",
    names: ["toy"],
    seeds: [0, 1],
    dataDir,
    executor: counting,
    store: await dirRunStore(dir),
  });
  assert.deepStrictEqual(trained.length, 2);
  assert.deepStrictEqual(first.resumed, undefined);
  // Started again: nothing is trained; one seed more: only that one.
  const again = await runSuite({
    scale: "micro",
    names: ["toy"],
    seeds: [0, 1, 2],
    dataDir,
    executor: counting,
    store: await dirRunStore(dir),
  });
  assert.deepStrictEqual(trained, [
    "toy/xor-shortcut/seed0",
    "toy/xor-shortcut/seed1",
    "toy/xor-shortcut/seed2",
  ]);
  assert.deepStrictEqual(again.resumed?.runs, 2);
  assert(again.resumed!.earlier_wall_seconds >= 0);
  assert.deepStrictEqual(
    again.experiments[0].runs.slice(0, 2).map((r) =>
      r.result.methods.map((m) => m.final_test_accuracy)
    ),
    first.experiments[0].runs.map((r) => r.result.methods.map((m) => m.final_test_accuracy)),
  );
  // A changed run (another backend) is trained again; --fresh ignores what is kept.
  await runSuite({
    scale: "micro",
    names: ["toy"],
    seeds: [0],
    dataDir,
    executor: counting,
    store: await dirRunStore(dir, true),
  });
  assert.deepStrictEqual(trained.length, 4);
});
