import assert from "node:assert/strict";
import {
  assertProblem,
  bearer,
  call,
  encodeNpz,
  randomLabels,
  randomMatrix,
  rng,
} from "./api_helpers.ts";
import {
  createInfoplaneClient,
  jobEvents,
  type JobStreamEvent,
  waitForJob,
} from "../client/mod.ts";
import { TrainingEventSchema, TrainingProgressSchema, TrainingSchema } from "../routes/schemas.ts";
import {
  postTraining,
  readEvents,
  tinyRequest,
  waitTraining,
  withTrainingService,
} from "./trainings_helpers.ts";

Deno.test("trainings api: POST -> 202, events stream live and replay, GET done, CSV", async () => {
  await withTrainingService({}, async (svc) => {
    // Through the typed client: paths, bodies and answers are checked against the document.
    const c = createInfoplaneClient(svc.url);
    const r = await c.POST("/v1/trainings", { body: tinyRequest() as never });
    assert.deepStrictEqual(r.response.status, 202, String(JSON.stringify(r.error)));
    const posted = TrainingSchema.parse(r.data);
    const id = posted.id;
    assert.deepStrictEqual(r.response.headers.get("location"), `/v1/trainings/${id}`);
    assert(["queued", "running"].includes(posted.status), posted.status);
    assert.deepStrictEqual(posted.links.events, `/v1/trainings/${id}/events`);
    assert.deepStrictEqual(posted.job.optimizer.epochs, 2);

    // Subscribed right away: sees the job live, to its end.
    const live: JobStreamEvent[] = [];
    for await (const e of jobEvents(c, "training", id)) live.push(e);
    const types = live.map((e) => e.event);
    assert.deepStrictEqual(types[types.length - 1], "end");
    assert.deepStrictEqual(live[live.length - 1].data, { status: "done", error: null });
    for (const t of ["started", "step", "checkpoint", "method_done"]) {
      assert(types.includes(t as JobStreamEvent["event"]), `event ${t} in ${types.join(",")}`);
    }
    assert.deepStrictEqual(types.filter((t) => t === "started").length, 2, "one per method");
    assert.deepStrictEqual(types.filter((t) => t === "method_done").length, 2);
    // 2 methods x (step 0 + 2 epochs) checkpoints, each with the layers.
    const logged = live.filter((e) => e.event !== "end" && e.event !== "progress");
    const cps = logged.flatMap((e) => e.data.type === "checkpoint" ? [e.data] : []);
    assert.deepStrictEqual(cps.length, 6);
    assert.deepStrictEqual(cps[0].layers.length, 3);
    const ids = logged.map((e) => e.id);
    assert.deepStrictEqual(ids, ids.map((_, i) => i), "ids are log positions");
    for (const e of logged) {
      assert.deepStrictEqual((e.data as { type: string }).type, e.event);
      TrainingEventSchema.parse(e.data);
    }
    for (const e of live) if (e.event === "progress") TrainingProgressSchema.parse(e.data);

    const done = TrainingSchema.parse(await waitForJob(c, "training", id));
    assert.deepStrictEqual(done.status, "done", JSON.stringify(done.error));
    assert.deepStrictEqual(done.attempts, 1);
    assert.deepStrictEqual(done.progress?.methods_done, 2);
    assert.deepStrictEqual(done.progress?.epoch, 2);
    const result = done.result!;
    assert.deepStrictEqual(result.methods.map((m) => m.method.label), [
      "e2e",
      "layerwise(cross_entropy)",
    ]);
    assert.deepStrictEqual(result.methods[0].analysis.checkpoints.length, 3);
    assert(typeof result.methods[0].analysis.summary.dynamics === "boolean", "a summary");
    assert.deepStrictEqual(result.methods[1].curves.length, 3);

    // A late subscriber gets the whole history, then the end.
    const late: string[] = [];
    for await (const e of jobEvents(c, "training", id)) late.push(e.event);
    assert.deepStrictEqual(late, types.filter((t) => t !== "progress"));
    // Resuming after an id replays only what follows it.
    const resumed = jobEvents(c, "training", id, { after: 4 });
    assert.deepStrictEqual((await resumed.next()).value?.id, 5);
    await resumed.return(undefined);

    const csv = await c.GET("/v1/trainings/{id}.csv", {
      params: { path: { id } },
      parseAs: "text",
    });
    assert.deepStrictEqual(csv.response.status, 200, String(JSON.stringify(csv.error)));
    assert(csv.response.headers.get("content-type")!.startsWith("text/csv"));
    const lines = csv.data!.trim().split(/\r?\n/);
    assert.deepStrictEqual(
      lines[0],
      "method,step,epoch,layer,nhsic_x,nhsic_y,nhsic_x_norm,nhsic_y_norm,test_accuracy",
    );
    assert.deepStrictEqual(lines.length, 1 + 2 * 3 * 3, "methods x checkpoints x layers");
    const row = lines[lines.length - 1].split(",");
    assert.deepStrictEqual(row[0], "layerwise(cross_entropy)");
    assert.deepStrictEqual(row[2], "2");
    assert.deepStrictEqual(row[3], "out");
    assert(Number(row[8]) > 0.5, `test accuracy ${row[8]}`);

    // Finished: cancelling is a conflict; deleting removes it.
    const path = { params: { path: { id } } };
    const cancel = await c.POST("/v1/trainings/{id}/cancel", path);
    assert.deepStrictEqual(cancel.response.status, 409);
    assert.deepStrictEqual(cancel.error?.field, "id");
    const h = await c.GET("/v1/health");
    assert.deepStrictEqual(h.data?.jobs.engine, "embedded");
    assert.deepStrictEqual(h.data?.jobs.load?.training, { running: 0, waiting: 0 });
    const gone = await c.DELETE("/v1/trainings/{id}", path);
    assert.deepStrictEqual(gone.response.status, 204);
    const after = await c.GET("/v1/trainings/{id}", path);
    assert.deepStrictEqual([after.response.status, after.error?.field], [404, "id"]);
    assertProblem(await call(svc, `/v1/trainings/${id}/events`), 404, "id");
  });
});

Deno.test("trainings api: cancel stops a running job within a step; queued ones never start", async () => {
  await withTrainingService({}, async (svc) => {
    // ~20 s of fake training: only a cancel ends it within the test.
    const long = tinyRequest({
      dataset: { name: "mnist", train_limit: 64 * 1000, test_limit: 256 },
      optimizer: { epochs: 2, batch_size: 64 },
    });
    const a = await postTraining(svc, long);
    const b = await postTraining(svc, long); // waits: concurrency 1
    assert.deepStrictEqual(a.status, 202);
    const running = await waitTraining(svc, a.body.id, (x) => x.progress?.step > 5);
    assert.deepStrictEqual(running.body.status, "running");
    assert.deepStrictEqual(running.body.worker, "embedded");
    const queued = await call(svc, `/v1/trainings/${b.body.id}`);
    assert.deepStrictEqual(queued.body.status, "queued");

    // Someone is watching when the cancel comes.
    const watching = readEvents(svc, a.body.id);
    const t0 = performance.now();
    const del = await call(svc, `/v1/trainings/${a.body.id}/cancel`, { method: "POST" });
    assert.deepStrictEqual(del.status, 200, del.text);
    assert.deepStrictEqual(del.body.status, "cancelled");
    const seen = await watching;
    assert.deepStrictEqual(seen.events[seen.events.length - 1].event, "end");
    assert.deepStrictEqual(seen.events[seen.events.length - 1].data.status, "cancelled");

    // The worker stopped: its slot is free (concurrency 1) and the queued job starts.
    await waitTraining(svc, b.body.id, (x) => x.status === "running", { timeoutMs: 2_000 });
    assert(performance.now() - t0 < 2_000, "the next job started late");
    const after = await call(svc, `/v1/trainings/${a.body.id}`);
    assert.deepStrictEqual(after.body.status, "cancelled");
    const steps = after.body.progress.step;
    await new Promise((ok) => setTimeout(ok, 100));
    assert.deepStrictEqual(
      (await call(svc, `/v1/trainings/${a.body.id}`)).body.progress.step,
      steps,
    );
    assertProblem(await call(svc, `/v1/trainings/${a.body.id}.csv`), 409, "id");
    assertProblem(await call(svc, `/v1/trainings/${a.body.id}/cancel`, { method: "POST" }), 409);

    // Cancel a queued one before it starts.
    const c = await postTraining(svc, tinyRequest());
    const delC = await call(svc, `/v1/trainings/${c.body.id}/cancel`, { method: "POST" });
    assert.deepStrictEqual(delC.body.status, "cancelled");
    assert.deepStrictEqual(
      (await call(svc, `/v1/trainings/${b.body.id}/cancel`, { method: "POST" })).body.status,
      "cancelled",
    );
    await new Promise((ok) => setTimeout(ok, 300));
    const cAfter = await call(svc, `/v1/trainings/${c.body.id}`);
    assert.deepStrictEqual(cAfter.body.status, "cancelled");
    assert.deepStrictEqual(cAfter.body.attempts, 0, "never started");
  });
});

Deno.test("trainings api: a failing job is failed with its reason", async () => {
  await withTrainingService({}, async (svc) => {
    const r = await postTraining(svc, tinyRequest({ seed: 13 }));
    const done = await waitTraining(svc, r.body.id);
    assert.deepStrictEqual(done.body.status, "failed");
    assert(done.body.error.message.includes("fake failure"), JSON.stringify(done.body.error));
    assert.deepStrictEqual(done.body.result, undefined);
    const ev = await readEvents(svc, r.body.id);
    assert.deepStrictEqual(ev.events[ev.events.length - 1].data.status, "failed");
    assertProblem(await call(svc, `/v1/trainings/${r.body.id}.csv`), 409);
  });
});

Deno.test("trainings api: unknown ids 404, invalid bodies 422 naming the field", async () => {
  await withTrainingService({}, async (svc) => {
    const none = "00000000-0000-0000-0000-000000000000";
    assertProblem(await call(svc, `/v1/trainings/${none}`), 404, "id");
    assertProblem(await call(svc, `/v1/trainings/${none}.csv`), 404, "id");
    assertProblem(await call(svc, `/v1/trainings/${none}`, { method: "DELETE" }), 404, "id");
    const ev = await call(svc, `/v1/trainings/${none}/events`);
    assertProblem(ev, 404, "id");

    const bad = tinyRequest({ dataset: { name: "imagenet" } });
    assertProblem(await postTraining(svc, bad), 422, "dataset.name");
    assertProblem(await postTraining(svc, tinyRequest({ bogus: 1 })), 422, "bogus");
    const noData = tinyRequest();
    delete noData.dataset;
    assertProblem(await postTraining(svc, noData), 422, "dataset");
    assertProblem(
      await postTraining(svc, tinyRequest({ model: { preset: "mlp", depth: 0 } })),
      422,
      /^model/,
    );
    // Valid JSON shape, but a method that does not fit: found by the resolver.
    const badMethod = assertProblem(
      await postTraining(svc, tinyRequest({ methods: [{ name: "e2e", head: "mlp" }] })),
      422,
      "methods[0].head",
    );
    assert.deepStrictEqual(badMethod.title, "Invalid model or training settings");
    assertProblem(
      await postTraining(svc, tinyRequest({ optimizer: { epochs: 0 } })),
      422,
      "optimizer.epochs",
    );
    assertProblem(
      await postTraining(svc, tinyRequest({ dataset: { name: "upload", path: "/etc/passwd" } })),
      422,
      "dataset.name",
    );
    assertProblem(
      await postTraining(svc, tinyRequest({ dataset: { name: "mnist", dir: "/etc" } })),
      422,
      "dataset.dir",
    );
    assertProblem(await postTraining(svc, "{not json"), 400);
    const plain = await call(svc, "/v1/trainings", {
      method: "POST",
      body: "hello",
      headers: { "content-type": "text/plain" },
    });
    assert(plain.status === 415 || plain.status === 400, `text/plain: ${plain.status}`);
    assert(plain.headers.get("content-type")!.startsWith("application/problem+json"));
  });
});

/** An .npz dataset: n samples of d features, `classes` classes. */
function npzDataset(n: number, d: number, classes: number): Uint8Array {
  const rand = rng(7);
  return encodeNpz({ x: randomMatrix(rand, n, d), y: randomLabels(rand, n, classes) });
}

async function postUpload(
  svc: { url: string },
  request: unknown,
  file: Uint8Array | null,
): Promise<Awaited<ReturnType<typeof call>>> {
  const form = new FormData();
  if (request !== undefined) {
    form.append("request", typeof request === "string" ? request : JSON.stringify(request));
  }
  if (file) form.append("dataset", new File([file as BlobPart], "mine.npz"));
  return await call(svc.url, "/v1/trainings", { method: "POST", body: form });
}

Deno.test("trainings api: multipart upload of an .npz dataset", async () => {
  await withTrainingService({}, async (svc) => {
    const req = tinyRequest({ dataset: undefined, methods: [{ name: "e2e" }] });
    delete req.dataset;
    const r = await postUpload(svc, req, npzDataset(64, 5, 3));
    assert.deepStrictEqual(r.status, 202, r.text);
    assert.deepStrictEqual(r.body.job.dataset.name, "upload");
    assert.deepStrictEqual(r.body.job.dataset.path, "(uploaded)", "server paths are not shown");
    const done = await waitTraining(svc, r.body.id);
    assert.deepStrictEqual(done.body.status, "done", JSON.stringify(done.body.error));
    // The upload is removed once the job finished (just after its status says so).
    let left = [...Deno.readDirSync(`${svc.dataDir}/jobs`)];
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await new Promise((ok) => setTimeout(ok, 50));
      left = [...Deno.readDirSync(`${svc.dataDir}/jobs`)];
    }
    assert.deepStrictEqual(left.length, 0, `uploads left: ${left.map((e) => e.name)}`);

    // Errors name the field at fault.
    assertProblem(await postUpload(svc, req, null), 422, "dataset");
    assertProblem(await postUpload(svc, undefined, npzDataset(8, 2, 2)), 422, "request");
    assertProblem(await postUpload(svc, "{", npzDataset(8, 2, 2)), 400, "request");
    assertProblem(
      await postUpload(svc, req, new TextEncoder().encode("not a zip")),
      400,
      "dataset",
    );
    const noY = encodeNpz({ x: randomMatrix(rng(1), 8, 2) });
    assertProblem(await postUpload(svc, req, noY), 422, "dataset.y");
    assertProblem(
      await postUpload(svc, { ...req, dataset: { name: "mnist" } }, npzDataset(8, 2, 2)),
      422,
      "request.dataset.name",
    );
    assertProblem(
      await postUpload(svc, { ...req, optimizer: { epochs: -1 } }, npzDataset(8, 2, 2)),
      422,
      /optimizer\.epochs/,
    );
  });
});

Deno.test("trainings api: with in-memory storage an uploaded dataset still trains", async () => {
  await withTrainingService({ INFOPLANE_STORAGE: "memory" }, async (svc) => {
    const req = tinyRequest({ methods: [{ name: "e2e" }] });
    delete req.dataset;
    const r = await postUpload(svc, req, npzDataset(64, 5, 3));
    assert.deepStrictEqual(r.status, 202, r.text);
    const done = await waitTraining(svc, r.body.id);
    assert.deepStrictEqual(done.body.status, "done", JSON.stringify(done.body.error));
    const written = [...Deno.readDirSync(svc.dataDir)];
    assert.deepStrictEqual(written.map((e) => e.name), [], "nothing in the data dir");
  });
});

Deno.test("trainings api: API keys scope jobs to their owner", async () => {
  await withTrainingService({ INFOPLANE_API_KEYS: "k1,k2" }, async (svc) => {
    assertProblem(await postTraining(svc, tinyRequest()), 401);
    const r = await postTraining(svc, tinyRequest(), bearer("k1"));
    assert.deepStrictEqual(r.status, 202, r.text);
    const id = r.body.id;
    for (const path of [`/v1/trainings/${id}`, `/v1/trainings/${id}/events`]) {
      assertProblem(await call(svc, path, { headers: bearer("k2") }), 404);
      assertProblem(await call(svc, path), 401);
    }
    assertProblem(
      await call(svc, `/v1/trainings/${id}`, { method: "DELETE", headers: bearer("k2") }),
      404,
    );
    const done = await waitTraining(svc, id, undefined, { headers: bearer("k1") });
    assert.deepStrictEqual(done.body.status, "done");
    const ev = await readEvents(svc, id, { headers: bearer("k1") });
    assert.deepStrictEqual(ev.events[ev.events.length - 1].event, "end");
  });
});

Deno.test("trainings api: keep-alive comments while a job is quiet; OpenAPI documents the routes", async () => {
  // 400 ms per step: long silences between step events.
  await withTrainingService({ INFOPLANE_SSE_KEEPALIVE_MS: "100" }, async (svc) => {
    const r = await postTraining(
      svc,
      tinyRequest({ optimizer: { epochs: 1, batch_size: 128 }, methods: [{ name: "e2e" }] }),
    );
    const log = await readEvents(svc, r.body.id);
    assert(log.comments.includes("keep-alive"), `comments: ${log.comments.join("|")}`);
    assert.deepStrictEqual(log.events[log.events.length - 1].data.status, "done");
    const doc = await call(svc, "/openapi.json");
    for (const p of ["/v1/trainings", "/v1/trainings/{id}", "/v1/trainings/{id}/events"]) {
      assert(doc.body.paths[p], `OpenAPI lacks ${p}`);
    }
    assert(doc.body.paths["/v1/trainings/{id}"].delete, "DELETE documented");
    assert(doc.body.paths["/v1/trainings/{id}/cancel"].post, "cancel documented");
  }, 400);
});
