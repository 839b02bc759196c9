import assert from "node:assert/strict";
import { call } from "./api_helpers.ts";
import {
  FAKE_RUNNER,
  postTraining,
  readEvents,
  startApiProc,
  stop,
  tinyRequest,
  waitTraining,
} from "./trainings_helpers.ts";

Deno.test("trainings restart: kill -> restarted from the beginning; SIGTERM is free; then failed", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "infoplane-train-restart-" });
  const env = {
    INFOPLANE_DATA_DIR: dataDir,
    INFOPLANE_WORKERS: "1",
    INFOPLANE_TRAINING_RUNNER: FAKE_RUNNER,
    INFOPLANE_FAKE_STEP_MS: "10",
    INFOPLANE_TRAINING_ATTEMPTS: "2",
  };
  const procs: Awaited<ReturnType<typeof startApiProc>>[] = [];
  const start = async () => {
    const p = await startApiProc(env);
    procs.push(p);
    return p;
  };
  const runningIn = async (url: string, id: string, attempts: number) => {
    const r = await waitTraining(url, id, (b) => b.status === "running" && b.progress?.step >= 5);
    assert.deepStrictEqual(r.body.attempts, attempts);
  };
  try {
    let p = await start();
    // ~20 s of fake steps: only the restarts below end it early.
    const job = tinyRequest({
      methods: [{ name: "e2e" }],
      dataset: { name: "mnist", train_limit: 64 * 1000, test_limit: 256 },
      optimizer: { epochs: 2, batch_size: 64 },
    });
    const r = await postTraining(p.url, job);
    assert.deepStrictEqual(r.status, 202, r.text);
    const id: string = r.body.id;
    const quick = await postTraining(p.url, tinyRequest({ methods: [{ name: "e2e" }] }));
    await runningIn(p.url, id, 1);
    await stop(p, "SIGKILL");

    p = await start();
    await runningIn(p.url, id, 2);
    const st = await stop(p, "SIGTERM", 10_000);
    assert.deepStrictEqual(st.code, 0, "clean exit on SIGTERM");

    p = await start();
    await runningIn(p.url, id, 2); // the SIGTERM'd run did not count
    await stop(p, "SIGKILL");

    p = await start();
    const failed = await waitTraining(p.url, id);
    assert.deepStrictEqual(failed.body.status, "failed");
    assert(failed.body.error.message.includes("interrupted 2 times"), failed.body.error.message);
    const log = await readEvents(p.url, id);
    const messages = log.events.filter((e) => e.event === "log").map((e) => e.data.message);
    assert(messages.some((m) => m.includes("restarts from the beginning (attempt 2 of 2)")));
    assert.deepStrictEqual(log.events[log.events.length - 1].data.status, "failed");
    // The job queued behind it ran once the slot was free.
    const q = await waitTraining(p.url, quick.body.id);
    assert.deepStrictEqual(q.body.status, "done");
    const h = await call(p.url, "/v1/health");
    assert.deepStrictEqual(h.body.jobs.load.training.running, 0);
  } finally {
    for (const p of procs) await stop(p, "SIGKILL");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
