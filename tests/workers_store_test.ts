/**
 * The job layer's Deno KV store against the store contract (tests/trainings_helpers.ts; the
 * Redis store runs the same contract in tests/workers_redis_test.ts), and the recorder that turns a
 * running job's events into store writes.
 */
import assert from "node:assert/strict";
import type { TrainingEvent, TrainingJob } from "../lib/train/mod.ts";
import {
  type JobRecord,
  type JobStore,
  KvJobStore,
  newRecord,
  Recorder,
  type TrainingProgress,
} from "../workers/mod.ts";
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

const START: TrainingProgress = {
  method: null,
  methods_done: 0,
  methods_total: 2,
  epoch: 0,
  epochs: 3,
  step: 0,
  loss: null,
  test_accuracy: null,
};

async function withStore(blobs: boolean, fn: (store: KvJobStore) => Promise<void>) {
  const kv = await Deno.openKv(":memory:");
  const dir = blobs ? await Deno.makeTempDir({ prefix: "infoplane-blobs-" }) : null;
  try {
    await fn(new KvJobStore(kv, dir));
  } finally {
    kv.close();
    if (dir) await Deno.remove(dir, { recursive: true });
  }
}

async function running(store: JobStore): Promise<string> {
  const rec = newRecord("training", JOB, "o", {}, 2) as JobRecord;
  await store.create(rec);
  await store.update(rec.id, { status: "running" });
  return rec.id;
}

Deno.test("job store (KV, blobs as files): the store contract", async () => {
  await withStore(true, async (store) => await storeContract(store, JOB));
});

Deno.test("job store (KV, blobs in KV): the store contract", async () => {
  await withStore(false, async (store) => await storeContract(store, JOB));
});

Deno.test("recorder: steps thinned, log capped, progress with timing tracked", async () => {
  await withStore(false, async (store) => {
    const id = await running(store);
    const rec = new Recorder(store, id, "training", START, {
      maxEvents: 20,
      stepIntervalMs: 1_000,
      progressIntervalMs: 10,
    });
    rec.push({
      type: "started",
      method: "e2e",
      backend: "cpu",
      device: "cpu",
      total_steps: 2000,
      epochs: 3,
    });
    for (let s = 1; s <= 1000; s++) {
      rec.push({ type: "step", method: "e2e", epoch: 1, step: s, loss: 1 / s });
    }
    assert.deepStrictEqual(rec.progress.fraction, 0.25, "half of the first of two methods");
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
    const events = (await store.events(id, 0)).map((e) => e.event);
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
    const p = (await store.get(id))!.progress as TrainingProgress & { fraction: number };
    assert.deepStrictEqual(p.methods_done, 1);
    assert.deepStrictEqual(p.methods_total, 2);
    assert.deepStrictEqual(p.step, 99);
    assert.deepStrictEqual(p.epochs, 3);
    assert.deepStrictEqual(p.test_accuracy, 0.75);
    assert.deepStrictEqual(p.fraction, 0.5);
    // seq positions are contiguous and resumable.
    const tail = await store.events(id, 39);
    assert.deepStrictEqual(tail.map((e) => e.seq), [39, 40]);
  });
});

Deno.test("recorder: a progress write on a cancelled job reports it", async () => {
  await withStore(false, async (store) => {
    const rec = newRecord("training", JOB, "o", {}, 2) as JobRecord;
    await store.create(rec);
    await store.update(rec.id, { status: "cancelled" });
    let told = 0;
    const recorder = new Recorder(
      store,
      rec.id,
      "training",
      START,
      { maxEvents: 10, stepIntervalMs: 0, progressIntervalMs: 0 },
      () => told++,
    );
    recorder.push({ type: "step", method: "e2e", epoch: 1, step: 1, loss: 1 });
    await recorder.drain();
    assert.deepStrictEqual(told, 1);
  });
});

Deno.test("recorder: events survive a store that fails for a while", async () => {
  await withStore(false, async (store) => {
    const id = await running(store);
    /** The same store, whose first three event writes fail. */
    class Flaky extends KvJobStore {
      failures = 3;
      override appendEvents(jobId: string, events: TrainingEvent[]): Promise<number> {
        if (this.failures-- > 0) return Promise.reject(new Error("store blip"));
        return super.appendEvents(jobId, events);
      }
    }
    const flaky = new Flaky(store.kv, store.blobDir);
    const rec = new Recorder(flaky, id, "training", START, {
      maxEvents: 100,
      stepIntervalMs: 0,
      progressIntervalMs: 0,
    });
    for (let i = 0; i < 5; i++) rec.push({ type: "log", message: `line ${i}` });
    await rec.drain();
    const logged = (await store.events(id, 0)).map((e) => (e.event as { message: string }).message);
    assert.deepStrictEqual(logged, ["line 0", "line 1", "line 2", "line 3", "line 4"]);
  });
});

Deno.test("recorder: a real sequential training's epoch counter stays within its epochs", async () => {
  // Sequential training runs every block for all epochs in turn: its steps count stages x epochs,
  // and lib/train/loop.ts announces that in `started` (epochs = stages x epochs). Every event of
  // a real job goes through the recorder; its progress must never pass its own totals.
  const { runTrainingOn } = await import("../lib/train/run.ts");
  const { resolveTrainingRequest } = await import("../lib/train/request.ts");
  const { tf } = await import("../lib/train/tf.ts");
  const { mnist } = await import("./train_helpers.ts");
  await tf.setBackend("wasm");
  const job = resolveTrainingRequest({
    dataset: { name: "mnist", train_limit: 200, test_limit: 64 },
    model: { preset: "mlp", depth: 2, width: 16 },
    methods: [{ name: "e2e" }, { name: "sequential" }],
    optimizer: { batch_size: 50, lr: 1e-3, epochs: 2 },
    tracking: { probe_size: 32, probe_batch: 16, first_epoch_points: 1 },
    backend: "wasm",
  });
  const ds = await mnist(200, 64);
  await withStore(false, async (store) => {
    const id = await running(store);
    const rec = new Recorder(store, id, "training", { ...START, epochs: job.optimizer.epochs }, {
      maxEvents: 10_000,
      stepIntervalMs: 0,
      progressIntervalMs: 0,
    });
    const seen: Array<{ type: string; epoch: number; epochs: number; fraction: number }> = [];
    const started: TrainingEvent[] = [];
    await runTrainingOn(job, ds, {
      onEvent: (e) => {
        rec.push(e);
        if (e.type === "started") started.push(e);
        const p = rec.progress as TrainingProgress & { fraction: number };
        seen.push({ type: e.type, epoch: p.epoch, epochs: p.epochs, fraction: p.fraction });
      },
    }, { name: "wasm", device: "test" });
    await rec.drain();
    // e2e: 2 epochs; sequential over the mlp's blocks: one stage per block, 2 epochs each.
    const announced = started.map((e) => e.type === "started" ? e.epochs : null);
    assert.strictEqual(announced[0], 2);
    assert(announced[1]! > 2 && announced[1]! % 2 === 0, `sequential announced ${announced[1]}`);
    let last = 0;
    for (const s of seen) {
      assert(s.epoch >= 0 && s.epoch <= s.epochs, `epoch ${s.epoch} of ${s.epochs} (${s.type})`);
      assert(s.fraction >= last - 1e-12 && s.fraction <= 1, `fraction ${s.fraction} after ${last}`);
      last = s.fraction;
    }
    const end = (await store.get(id))!.progress as TrainingProgress & { fraction: number };
    assert.strictEqual(end.methods_done, 2);
    assert.strictEqual(end.epochs, announced[1], "the running method's own epochs");
    assert.strictEqual(end.epoch, announced[1], "the last epoch reached, not beyond");
    assert.strictEqual(end.fraction, 1);
  });
});
