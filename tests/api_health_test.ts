import assert from "node:assert/strict";
import {
  call,
  encodeNpz,
  postNpz,
  randomLabels,
  randomMatrix,
  rng,
  waitDone,
  withService,
} from "./api_helpers.ts";

/** Largest acceptable /v1/health latency while an analysis runs. */
const MAX_HEALTH_MS = 100;

Deno.test("api health: /v1/health stays responsive during a long analysis", async () => {
  await withService({}, async (svc) => {
    const m = 4096;
    // x 4096x64, ten classes, one layer 4096x64.
    const rand = rng(42);
    const x = randomMatrix(rand, m, 64);
    const y = randomLabels(rand, m, 10);
    const npz = encodeNpz({ x, y, fc1: randomMatrix(rand, m, 64) });
    const t0 = performance.now();
    const r = await postNpz(svc, npz, { async: true });
    assert.deepStrictEqual(r.status, 202, r.text);
    const id: string = r.body.id;

    // Wait until the worker has the task (the queue delivers it within about a second).
    const deadline = Date.now() + 20_000;
    while (true) {
      const h = await call(svc, "/v1/health");
      if (h.body.workers.running > 0) break;
      const a = await call(svc, `/v1/analyses/${id}`);
      assert(a.body.status !== "done", "the analysis finished before health could be probed");
      assert(Date.now() < deadline, "the analysis never started");
      await new Promise((ok) => setTimeout(ok, 20));
    }

    const latencies: number[] = [];
    let busy = 0;
    for (let i = 0; i < 20; i++) {
      const h = await call(svc, "/v1/health");
      assert.deepStrictEqual(h.status, 200);
      assert.deepStrictEqual(h.body.status, "ok");
      latencies.push(h.ms);
      if (h.body.workers.running > 0) busy++;
      await new Promise((ok) => setTimeout(ok, 5));
    }
    const during = await call(svc, `/v1/analyses/${id}`);
    const max = Math.max(...latencies);
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `health during an m=${m} analysis: max ${max.toFixed(1)} ms, median ${
        sorted[10].toFixed(1)
      } ms; ${busy}/20 calls while computing; analysis ${during.body.status} after them`,
    );
    assert(busy > 0, "the analysis was not running during any health call");
    assert(
      ["queued", "running"].includes(during.body.status),
      `analysis ${during.body.status} right after the health calls: too fast to test anything`,
    );
    assert(max < MAX_HEALTH_MS, `slowest /v1/health took ${max.toFixed(1)} ms`);

    const done = await waitDone(svc, id, { timeoutMs: 60_000 });
    assert.deepStrictEqual(done.body.status, "done", JSON.stringify(done.body.error));
    assert.deepStrictEqual(done.body.m, m);
    assert(Number.isFinite(done.body.checkpoints[0].layers[0].nhsic_x), "a result");
    console.log(
      `  the analysis took ${((performance.now() - t0) / 1000).toFixed(1)} s end to end ` +
        `(compute ${done.body.compute.seconds.toFixed(1)} s)`,
    );
    const h = await call(svc, "/v1/health");
    assert.deepStrictEqual(h.body.workers.running, 0);
  });
});
