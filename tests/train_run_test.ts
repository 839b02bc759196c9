import assert from "node:assert/strict";
import { tf } from "../lib/train/mod.ts";
import { getLinalg } from "../lib/linalg/mod.ts";
import { trainMethod } from "../lib/train/mod.ts";
import { checkJobAgainstInput, resolveTrainingRequest } from "../lib/train/mod.ts";
import { runTraining, runTrainingOn } from "../lib/train/run.ts";
import { checkpointSteps } from "../lib/train/tracking.ts";
import type { TrainingEvent, TrainingJob } from "../lib/train/mod.ts";
import { mnist } from "./train_helpers.ts";

const BACKEND = { name: "wasm" as const, device: "test" };

function smallJob(extra: Record<string, unknown> = {}): TrainingJob {
  return resolveTrainingRequest({
    dataset: { name: "mnist", train_limit: 400, test_limit: 100 },
    model: { preset: "mlp", depth: 2, width: 32 },
    methods: [{ name: "e2e" }, { name: "layerwise" }],
    optimizer: { batch_size: 50, lr: 1e-3 },
    tracking: { probe_size: 64, probe_batch: 32, first_epoch_points: 3 },
    backend: "wasm",
    ...extra,
  });
}

Deno.test("checkpointSteps: step 0, points inside the first epoch, every epoch end", () => {
  assert.deepStrictEqual(checkpointSteps(8, 2, 3), [0, 2, 4, 6, 8, 16]);
  assert.deepStrictEqual(checkpointSteps(10, 1, 4), [0, 2, 4, 6, 8, 10]);
  assert.deepStrictEqual(checkpointSteps(2, 3, 4), [0, 1, 2, 4, 6]);
  assert.deepStrictEqual(checkpointSteps(5, 1, 0), [0, 5]);
});

Deno.test("tracking: checkpoints at the expected steps with finite nHSIC, events in order", async () => {
  await tf.setBackend("wasm");
  const ds = await mnist(400, 100);
  const job = smallJob({ optimizer: { batch_size: 50, lr: 1e-3, epochs: 2 } });
  const events: TrainingEvent[] = [];
  const res = await runTrainingOn(job, ds, { onEvent: (e) => events.push(e) }, BACKEND);
  const expected = [0, 2, 4, 6, 8, 16];
  assert.deepStrictEqual(res.methods.map((m) => m.method.label), [
    "e2e",
    "layerwise(cross_entropy)",
  ]);
  for (const m of res.methods) {
    assert.deepStrictEqual(m.curves.map((c) => c.step), expected);
    assert.deepStrictEqual(m.curves.map((c) => c.epoch), expected.map((s) => s / 8));
    assert.deepStrictEqual(m.analysis.checkpoints.map((c) => c.step), expected);
    assert.deepStrictEqual(m.analysis.m, 64);
    assert.deepStrictEqual(m.analysis.estimator.batch_size, 32);
    assert.deepStrictEqual(m.analysis.estimator.batches, 2);
    for (const cp of m.analysis.checkpoints) {
      assert.deepStrictEqual(cp.layers.map((l) => l.name), ["fc1", "fc2", "logits"]);
      for (const l of cp.layers) {
        assert(Number.isFinite(l.nhsic_x) && l.nhsic_x > 0, `${m.method.label} ${l.name} nhsic_x`);
        assert(Number.isFinite(l.nhsic_y) && l.nhsic_y > 0, `${m.method.label} ${l.name} nhsic_y`);
      }
    }
    assert.deepStrictEqual(m.analysis.summary.checkpoints, expected.length);
    assert(m.curves[0].objective === undefined && m.curves[1].objective !== undefined);
    assert.deepStrictEqual(m.final_test_accuracy, m.curves.at(-1)!.test_accuracy);
  }
  // Both methods start from the same weights and see the same first batch.
  assert.deepStrictEqual(res.methods[0].curves[0], res.methods[1].curves[0]);
  assert.deepStrictEqual(
    res.methods[0].analysis.checkpoints[0],
    res.methods[1].analysis.checkpoints[0],
  );
  // E2E learns: accuracy after 2 epochs of 400 samples well above chance.
  assert(res.methods[0].final_test_accuracy > 0.3, `e2e ${res.methods[0].final_test_accuracy}`);

  const kinds = events.map((e) => e.type);
  assert.deepStrictEqual(kinds.filter((k) => k === "started").length, 2);
  assert.deepStrictEqual(kinds.filter((k) => k === "checkpoint").length, 12);
  assert.deepStrictEqual(kinds.filter((k) => k === "method_done").length, 2);
  // Step events every 20 steps and at the last: only step 16 here.
  assert.deepStrictEqual(
    events.filter((e) => e.type === "step").map((e) => (e as { step: number }).step),
    [
      16,
      16,
    ],
  );
  assert.deepStrictEqual(kinds[0], "started");
  assert.deepStrictEqual(kinds.at(-1), "method_done");
  assert.deepStrictEqual(res.backend, BACKEND);
  assert.deepStrictEqual(res.dataset, {
    name: "mnist",
    train: 400,
    test: 100,
    shape: [28, 28, 1],
    num_classes: 10,
  });
  JSON.parse(JSON.stringify(res)); // plain JSON
});

Deno.test("determinism: the same seed gives identical results, another seed does not", async () => {
  await tf.setBackend("wasm");
  const ds = await mnist(400, 100);
  const strip = (r: Awaited<ReturnType<typeof runTrainingOn>>) =>
    r.methods.map((m) => ({ curves: m.curves, cps: m.analysis.checkpoints }));
  const a = await runTrainingOn(smallJob({ seed: 3 }), ds, {}, BACKEND);
  const b = await runTrainingOn(smallJob({ seed: 3 }), ds, {}, BACKEND);
  const c = await runTrainingOn(smallJob({ seed: 4 }), ds, {}, BACKEND);
  assert.deepStrictEqual(strip(a), strip(b));
  assert(
    JSON.stringify(strip(a)) !== JSON.stringify(strip(c)),
    "seed 4 gives the same numbers as seed 3",
  );
});

Deno.test("training frees its tensors: the count does not grow across steps", async () => {
  await tf.setBackend("wasm");
  const ds = await mnist(400, 100);
  for (
    const method of [
      { name: "e2e" },
      { name: "layerwise", head: "mlp", nhsic_lambda: 0.1 },
      { name: "layerwise", loss: "supervised_contrastive" },
      { name: "sequential", loss: "similarity" },
    ]
  ) {
    const job = smallJob({
      methods: [method],
      tracking: { probe_size: 32, first_epoch_points: 0 },
    });
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    await trainMethod({
      job,
      dataset: ds,
      plan: checkJobAgainstInput(job, ds.shape, ds.numClasses),
      method: { ...job.methods[0], label: job.methods[0].label! },
      backend: BACKEND,
      linalg: getLinalg(),
      onStep: () => counts.push(tf.memory().numTensors),
    });
    assert(counts.length >= 8, `${method.name}: ${counts.length} steps`);
    // Constant within a stage (a sequential stage adds the optimiser state of its block).
    const stages = method.name === "sequential" ? 2 : 1; // two blocks
    const per = counts.length / stages;
    for (let s = 0; s < stages; s++) {
      const stage = counts.slice(s * per + 1, (s + 1) * per);
      assert.deepStrictEqual(new Set(stage).size, 1, `${JSON.stringify(method)}: counts ${counts}`);
    }
    assert.deepStrictEqual(
      tf.memory().numTensors,
      before,
      `${JSON.stringify(method)}: left tensors`,
    );
  }
});

Deno.test("an aborted job stops within one step with an AbortError", async () => {
  await tf.setBackend("wasm");
  const ds = await mnist(400, 100);
  const before = tf.memory().numTensors;
  const ctrl = new AbortController();
  let steps = 0, stepsAtAbort = -1;
  const job = smallJob({ optimizer: { batch_size: 20, epochs: 5 } });
  await assert.rejects(() =>
    runTrainingOn(job, ds, {
      signal: ctrl.signal,
      onEvent: (e) => {
        if (e.type === "checkpoint" && e.step > 0 && stepsAtAbort < 0) {
          stepsAtAbort = e.step;
          ctrl.abort();
        }
        if (e.type === "checkpoint") steps = e.step;
      },
    }, BACKEND), { name: "AbortError" });
  assert.deepStrictEqual(steps, stepsAtAbort, "no checkpoint after the abort");
  assert.deepStrictEqual(tf.memory().numTensors, before, "tensors left after the abort");
  // Already aborted: nothing starts.
  await assert.rejects(
    () => runTraining(job, { dataDir: Deno.makeTempDirSync(), signal: AbortSignal.abort() }),
    { name: "AbortError" },
  );
});

Deno.test("runTraining loads the dataset and checks the model against it", async () => {
  const dataDir = Deno.makeTempDirSync();
  const job = smallJob({
    methods: [{ name: "e2e" }],
    dataset: { name: "mnist", train_limit: 100, test_limit: 50 },
    tracking: { probe_size: 32, first_epoch_points: 0 },
  });
  const res = await runTraining(job, { dataDir });
  assert.deepStrictEqual(res.dataset.train, 100);
  assert.deepStrictEqual(res.methods[0].curves.map((c) => c.step), [0, 2]);
  assert.deepStrictEqual(res.backend.name, "wasm");
});

Deno.test("linear probes: one accuracy per tracked layer at every checkpoint", async () => {
  await tf.setBackend("wasm");
  const ds = await mnist(400, 100);
  const job = smallJob({
    methods: [{ name: "e2e" }],
    tracking: { probe_size: 64, probe_batch: 32, first_epoch_points: 0, linear_probe: true },
  });
  const res = await runTrainingOn(job, ds, {}, BACKEND);
  for (const c of res.methods[0].curves) {
    const p = c.probe_accuracy!;
    assert.deepStrictEqual(Object.keys(p), ["fc1", "fc2", "logits"]);
    assert(Object.values(p).every((a) => a >= 0 && a <= 1), JSON.stringify(p));
  }
  // After an epoch the last layers separate the classes better than chance on held-out probes.
  assert(res.methods[0].curves.at(-1)!.probe_accuracy!.logits > 0.3);
});
