import assert from "node:assert/strict";
import { TrainingEventSchema, TrainingSchema } from "../routes/schemas.ts";
import { call } from "./api_helpers.ts";
import {
  postTraining,
  readEvents,
  waitTraining,
  withTrainingService,
} from "./trainings_helpers.ts";

Deno.test("trainings e2e: real runTraining on a tiny MNIST job through the API", async () => {
  // An empty runner variable means the default: lib/train/run.ts in a Web Worker.
  await withTrainingService({ INFOPLANE_TRAINING_RUNNER: "" }, async (svc) => {
    const t0 = performance.now();
    const r = await postTraining(svc, {
      model: { preset: "mlp", depth: 2 },
      dataset: { name: "mnist", train_limit: 256, test_limit: 256 },
      methods: [{ name: "e2e" }, { name: "layerwise" }],
      optimizer: { epochs: 1, batch_size: 64 },
      tracking: { probe_size: 128, first_epoch_points: 1 },
      seed: 3,
    });
    assert.deepStrictEqual(r.status, 202, r.text);
    const id = r.body.id;
    const log = await readEvents(svc, id, { timeoutMs: 120_000 });
    const end = log.events[log.events.length - 1];
    assert.deepStrictEqual(end.event, "end");
    const done = await waitTraining(svc, id, undefined, { timeoutMs: 5_000 });
    assert.deepStrictEqual(done.body.status, "done", JSON.stringify(done.body.error));
    // The real result, strictly as the API's document describes it.
    TrainingSchema.parse(done.body);
    for (const e of log.events) {
      if (e.event !== "end" && e.event !== "progress") TrainingEventSchema.parse(e.data);
    }
    const seconds = (performance.now() - t0) / 1000;

    const types = new Set(log.events.map((e) => e.event));
    for (const t of ["started", "checkpoint", "method_done"]) assert(types.has(t), `event ${t}`);
    const res = done.body.result;
    assert.deepStrictEqual(res.methods.length, 2);
    assert.deepStrictEqual(res.dataset.train, 256);
    for (const m of res.methods) {
      const cps = m.analysis.checkpoints;
      assert(cps.length >= 2, `${m.method.label}: ${cps.length} checkpoints`);
      assert.deepStrictEqual(cps[0].step, 0);
      for (const l of cps[cps.length - 1].layers) {
        assert(Number.isFinite(l.nhsic_x) && Number.isFinite(l.nhsic_y), `${l.name} finite`);
      }
      const acc = m.final_test_accuracy;
      assert(acc >= 0 && acc <= 1, `${m.method.label}: accuracy ${acc}`);
      assert.deepStrictEqual(m.curves.length, cps.length);
    }
    const csv = await call(svc, `/v1/trainings/${id}.csv`);
    assert.deepStrictEqual(csv.status, 200);
    const rows = csv.text.trim().split(/\r?\n/).length - 1;
    const expected = res.methods.reduce(
      (s: number, m: { analysis: { checkpoints: Array<{ layers: unknown[] }> } }) =>
        s + m.analysis.checkpoints.reduce((t, c) => t + c.layers.length, 0),
      0,
    );
    assert.deepStrictEqual(rows, expected);
    console.log(
      `  real job: ${seconds.toFixed(1)} s end to end on ${res.backend.name} ` +
        `(${res.backend.device}); final test accuracy ` +
        res.methods.map((m: { method: { label: string }; final_test_accuracy: number }) =>
          `${m.method.label} ${m.final_test_accuracy.toFixed(3)}`
        ).join(", "),
    );
  });
});

Deno.test("trainings e2e: cancel stops a real running job within a step", async () => {
  await withTrainingService({ INFOPLANE_TRAINING_RUNNER: "" }, async (svc) => {
    const r = await postTraining(svc, {
      model: { preset: "mlp", depth: 2 },
      dataset: { name: "mnist", train_limit: 4096, test_limit: 256 },
      methods: [{ name: "e2e" }],
      optimizer: { epochs: 20, batch_size: 64 },
      tracking: { probe_size: 128 },
    });
    const id = r.body.id;
    await readEvents(svc, id, { stopWhen: (e) => e.event === "step", timeoutMs: 60_000 });
    const t0 = performance.now();
    const del = await call(svc, `/v1/trainings/${id}/cancel`, { method: "POST" });
    assert.deepStrictEqual(del.body.status, "cancelled");
    while ((await call(svc, "/v1/health")).body.jobs.load.training.running > 0) {
      assert(performance.now() - t0 < 5_000, "the job still runs 5 s after the cancel");
      await new Promise((ok) => setTimeout(ok, 20));
    }
    const ms = performance.now() - t0;
    const after = await call(svc, `/v1/trainings/${id}`);
    assert.deepStrictEqual(after.body.status, "cancelled");
    console.log(
      `  stopped ${ms.toFixed(0)} ms after the cancel, at step ${after.body.progress?.step}`,
    );
  });
});
