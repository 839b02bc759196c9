import assert from "node:assert/strict";
import type { TrainingEvent, TrainingJob } from "../lib/train/types.ts";
import { EventRecorder } from "../workers/training_recorder.ts";
import { KvTrainingStore } from "../workers/training_store_kv.ts";
import { storeContract } from "./trainings_helpers.ts";

const JOB = {
  model: { preset: "mlp" },
  dataset: { name: "mnist" },
  methods: [{ name: "e2e" }, { name: "layerwise" }],
  optimizer: { lr: 1e-3, weight_decay: 0, epochs: 3, batch_size: 32 },
  tracking: {
    probe_size: 64,
    probe_batch: 32,
    first_epoch_points: 0,
    linear_probe: false,
    estimator: {},
  },
  seed: 0,
  backend: "cpu",
} as unknown as TrainingJob;

async function withStore(fn: (store: KvTrainingStore) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  try {
    await fn(new KvTrainingStore(kv, "/nonexistent"));
  } finally {
    kv.close();
  }
}

Deno.test("training store (KV): the store contract", async () => {
  await withStore(async (store) => await storeContract(store, JOB));
});

Deno.test("training recorder: steps thinned, log capped, progress tracked", async () => {
  await withStore(async (store) => {
    await store.create({ id: "j", owner: "o", job: JOB, max_attempts: 2 });
    await store.update("j", { status: "running" });
    const rec = new EventRecorder(store, "j", JOB, {
      maxEvents: 20,
      stepIntervalMs: 1_000,
      progressIntervalMs: 10,
    });
    rec.push({ type: "started", method: "e2e", backend: "cpu", device: "cpu" });
    for (let s = 1; s <= 1000; s++) {
      rec.push({ type: "step", method: "e2e", epoch: 1, step: s, loss: 1 / s });
    }
    const cp = (step: number): TrainingEvent => ({
      type: "checkpoint",
      method: "e2e",
      epoch: 1,
      step,
      train_loss: 0.5,
      train_accuracy: 0.8,
      test_accuracy: 0.75,
      layers: [],
    });
    for (let i = 0; i < 100; i++) rec.push(cp(i));
    rec.push({ type: "method_done", method: "e2e", test_accuracy: 0.75 });
    await rec.drain();
    const events = (await store.events("j", 0)).map((e) => e.event);
    assert.deepStrictEqual(
      events.filter((e) => e.type === "step").length,
      1,
      "one step per interval",
    );
    assert.deepStrictEqual(
      events.length,
      2 * 20 + 1,
      "non-step events up to 2x the cap, then a note",
    );
    assert.deepStrictEqual(events[events.length - 1].type, "log");
    const p = (await store.get("j"))!.progress!;
    assert.deepStrictEqual(p.methods_done, 1);
    assert.deepStrictEqual(p.methods_total, 2);
    assert.deepStrictEqual(p.step, 99);
    assert.deepStrictEqual(p.epochs, 3);
    assert.deepStrictEqual(p.test_accuracy, 0.75);
    // seq positions are contiguous and resumable.
    const tail = await store.events("j", 39);
    assert.deepStrictEqual(tail.map((e) => e.seq), [39, 40]);
  });
});

Deno.test("training recorder: a progress write on a cancelled job reports it", async () => {
  await withStore(async (store) => {
    await store.create({ id: "c", owner: "o", job: JOB, max_attempts: 2 });
    await store.update("c", { status: "cancelled" });
    let told = 0;
    const rec = new EventRecorder(
      store,
      "c",
      JOB,
      { maxEvents: 10, stepIntervalMs: 0, progressIntervalMs: 0 },
      () => told++,
    );
    rec.push({ type: "step", method: "e2e", epoch: 1, step: 1, loss: 1 });
    await rec.drain();
    assert.deepStrictEqual(told, 1);
  });
});
