/**
 * The typed client (client/): its generated files match what the current OpenAPI document
 * generates (so the client cannot drift from the API), and client/example.ts, which `deno check`
 * type-checks with the rest of this test, runs against a real service: upload, wait, list,
 * a training's events.
 */
import assert from "node:assert/strict";
import { runExample } from "../client/example.ts";
import { createInfoplaneClient, formData, parseEventStream } from "../client/mod.ts";
import { generateClient } from "../scripts/client.ts";
import { encodeNpz, makeDump } from "./api_helpers.ts";
import { withTrainingService } from "./trainings_helpers.ts";

const CLIENT = new URL("../client/", import.meta.url);

Deno.test("client: the committed generated files are what the current document generates", async () => {
  const now = await generateClient();
  for (const [name, text] of [["openapi.json", now.openapi], ["schema.ts", now.schema]] as const) {
    const committed = await Deno.readTextFile(new URL(name, CLIENT));
    assert(
      committed === text,
      `client/${name} differs from what the API's document generates: run \`deno task client\` ` +
        "and commit the result",
    );
  }
});

Deno.test("client: the example uploads a dump, waits, lists and follows a training", async () => {
  await withTrainingService({}, async (svc) => {
    const npz = encodeNpz(makeDump({ m: 40, steps: [0, 10, 20], seed: 7 }));
    const lines: string[] = [];
    const report = await runExample(svc.url, { npz, log: (l) => lines.push(l) });
    assert.strictEqual(report.analysis.status, "done");
    assert.deepStrictEqual(report.analysis.checkpoints?.map((c) => c.step), [0, 10, 20]);
    assert.strictEqual(report.analysis.estimator.sigma, "median", "the form's estimator field");
    assert.strictEqual(report.analysis.label, "client example");
    assert(report.listed.some((j) => j.id === report.analysis.id), "listed");
    const events = report.trainingEvents;
    assert.strictEqual(events.at(-1)?.event, "end");
    assert.deepStrictEqual(events.at(-1)?.data, { status: "done", error: null });
    const done = events.filter((e) => e.event === "method_done");
    assert.strictEqual(done.length, 2, "both methods finished");
    assert(lines.some((l) => l.includes("CSV:")), lines.join("\n"));
  });
});

Deno.test("client: problems come back typed; the JSON form and cancel work", async () => {
  await withTrainingService({}, async (svc) => {
    const client = createInfoplaneClient(svc.url);
    const bad = await client.POST("/v1/analyses", {
      body: {
        x: [[1], [2], [3], [4], [5], [6]],
        y: [0, 1, 0, 1, 0, 1],
        layers: { fc1: [[1], [2], [3], [4], [5]] },
      },
    });
    assert.strictEqual(bad.response.status, 422);
    assert.strictEqual(bad.error?.type, "/docs/problems#shape-mismatch");
    assert.strictEqual(bad.data, undefined);

    const missing = await client.GET("/v1/trainings/{id}", {
      params: { path: { id: "0196c3a0-7b7e-7c51-9d7e-3b2f4f0c1a2b" } },
    });
    assert.strictEqual(missing.response.status, 404);
    assert.strictEqual(missing.error?.title, "Not found");

    const form = await client.POST("/v1/analyses", {
      body: { dump: new Blob([encodeNpz(makeDump({ m: 16 })) as Uint8Array<ArrayBuffer>]) },
      bodySerializer: formData,
    });
    assert.strictEqual(form.response.status, 200, JSON.stringify(form.error));
    assert.strictEqual(form.data?.status, "done");

    const t = await client.POST("/v1/trainings", {
      body: {
        dataset: { name: "mnist", train_limit: 4096 },
        optimizer: { epochs: 50, batch_size: 16 },
      },
    });
    assert.strictEqual(t.response.status, 202, JSON.stringify(t.error));
    const cancelled = await client.POST("/v1/trainings/{id}/cancel", {
      params: { path: { id: t.data!.id } },
    });
    assert.strictEqual(cancelled.data?.status, "cancelled");
  }, 20);
});

Deno.test("client: the event-stream parser reads events split anywhere, comments skipped", async () => {
  const text = ': hello\n\nevent: step\nid: 3\ndata: {"a":1}\n\r\nevent: end\ndata: {}\n\n';
  for (const cut of [1, 5, 17, 30, text.length - 1]) {
    const enc = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode(text.slice(0, cut)));
        c.enqueue(enc.encode(text.slice(cut)));
        c.close();
      },
    });
    const events = [];
    for await (const e of parseEventStream(body)) events.push(e);
    assert.deepStrictEqual(events, [
      { event: "step", id: "3", data: '{"a":1}' },
      { event: "end", id: null, data: "{}" },
    ], `cut at ${cut}`);
  }
});
