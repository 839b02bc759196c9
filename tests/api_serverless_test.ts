/**
 * Serverless mode (INFOPLANE_MODE=serverless): no FFI, no Web Workers, no local files. Small
 * analyses run inline on the portable linear algebra, queued ones through the KV queue; listing
 * and delete work as anywhere; trainings and experiment suites are refused with a 501 problem.
 * `deno task test:serverless` runs this file and the analysis, error and auth tests in that mode
 * with Web Workers made unavailable and without --allow-write, --allow-ffi or --allow-run.
 */
import assert from "node:assert/strict";
import { createInfoplaneClient, formData } from "../client/mod.ts";
import { loadSettings } from "../lib/settings.ts";
import { AnalysisSchema } from "../routes/schemas.ts";
import { startService } from "../main.ts";
import { encodeNpz, makeDump, toNested } from "./api_helpers.ts";

async function withServerless(fn: (url: string) => Promise<void>): Promise<void> {
  const env: Record<string, string> = {
    PORT: "0",
    INFOPLANE_MODE: "serverless",
    INFOPLANE_STORAGE: "memory",
    INFOPLANE_DATA_DIR: "/nonexistent/never-written",
  };
  const service = await startService(loadSettings((k) => env[k]));
  try {
    assert.strictEqual(service.storage.kind, "memory");
    assert.strictEqual(service.storage.dataDir, null, "no local files");
    await fn(service.url);
  } finally {
    await service.close();
  }
}

Deno.test("serverless: analyses inline and queued, listing and delete; no trainings", async () => {
  await withServerless(async (url) => {
    const c = createInfoplaneClient(url);
    const health = await c.GET("/v1/health");
    assert.strictEqual(health.data?.linalg, "portable");
    assert.strictEqual(health.data?.status, "ok");
    assert.strictEqual(health.data?.workers.size, 1);

    // Inline: the request waits for the result.
    const d = makeDump({ m: 24, layers: { fc1: 4, fc2: 3 }, steps: [0, 5], seed: 21 });
    const sync = await c.POST("/v1/analyses", {
      body: { dump: new Blob([encodeNpz(d) as Uint8Array<ArrayBuffer>]) },
      bodySerializer: formData,
    });
    assert.strictEqual(sync.response.status, 200, String(JSON.stringify(sync.error)));
    const done = AnalysisSchema.parse(sync.data);
    assert.strictEqual(done.compute?.linalg, "portable");
    assert.strictEqual(done.worker, "api");

    // Queued: the KV queue's listener runs it in this isolate.
    const queued = await c.POST("/v1/analyses", {
      params: { query: { async: "true" } },
      body: {
        x: toNested(d.x) as unknown[],
        y: toNested(d.y) as unknown[],
        checkpoints: [0, 5].map((step) => ({
          step,
          layers: {
            fc1: toNested(d[`${step}/fc1`]) as unknown[],
            fc2: toNested(d[`${step}/fc2`]) as unknown[],
          },
        })),
        label: "queued in serverless mode",
      },
    });
    assert.strictEqual(queued.response.status, 202, String(JSON.stringify(queued.error)));
    const id = queued.data!.id;
    let rec = queued.data!;
    for (let i = 0; i < 200 && !["done", "failed"].includes(rec.status); i++) {
      await new Promise((ok) => setTimeout(ok, 25));
      rec = (await c.GET("/v1/analyses/{id}", { params: { path: { id } } })).data!;
    }
    assert.strictEqual(rec.status, "done", JSON.stringify(rec.error));
    assert.strictEqual(rec.worker, "embedded");
    assert.deepStrictEqual(rec.checkpoints, done.checkpoints, "queued = inline");
    assert.strictEqual(rec.progress?.fraction, 1);

    const list = await c.GET("/v1/analyses", { params: { query: { label: "serverless" } } });
    assert.deepStrictEqual(list.data?.items.map((j) => j.id), [id]);
    const all = await c.GET("/v1/jobs");
    assert.strictEqual(all.data?.items.length, 2);

    const gone = await c.DELETE("/v1/analyses/{id}", { params: { path: { id } } });
    assert.strictEqual(gone.response.status, 204);
    const after = await c.GET("/v1/analyses/{id}", { params: { path: { id } } });
    assert.strictEqual(after.response.status, 404);

    // Long trainings need Web Workers and files: a clear 501.
    const t = await c.POST("/v1/trainings", { body: { dataset: { name: "mnist" } } });
    assert.strictEqual(t.response.status, 501);
    assert.strictEqual(t.error?.type, "/docs/problems#not-implemented");
    assert.match(t.error?.detail ?? "", /serverless mode/);
    const e = await c.POST("/v1/experiments", { body: { names: ["toy"] } });
    assert.strictEqual(e.response.status, 501);
  });
});

Deno.test("settings: HOST defaults to this machine; serverless mode has no file storage", () => {
  const s = loadSettings(() => undefined);
  assert.deepStrictEqual([s.host, s.mode, s.storage], ["127.0.0.1", "server", "file"]);
  const sl = loadSettings((k) => ({ INFOPLANE_MODE: "serverless", HOST: "0.0.0.0" })[k]);
  assert.deepStrictEqual([sl.host, sl.mode, sl.storage], ["0.0.0.0", "serverless", "kv"]);
  assert.throws(
    () => loadSettings((k) => ({ INFOPLANE_MODE: "serverless", INFOPLANE_STORAGE: "file" })[k]),
    /INFOPLANE_STORAGE=file/,
  );
  assert.throws(() => loadSettings((k) => ({ INFOPLANE_MODE: "lambda" })[k]), /INFOPLANE_MODE/);
});
