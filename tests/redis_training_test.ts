/**
 * The scale-out mode against a real Redis: redis-server, the API (INFOPLANE_REDIS_URL) and two
 * `workers/worker_main.ts` processes run as subprocesses on 127.0.0.1. A job's worker is killed
 * with SIGKILL mid-job; BullMQ's stalled-job check hands the job to the other worker, which
 * restarts it from the beginning and finishes it. With attempts = 1 the same kill fails the job
 * with a reason instead. Skipped (ignore) when redis-server is not installed.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { TrainingJob } from "../lib/train/types.ts";
import { RedisTrainingStore } from "../workers/training_store_redis.ts";
import { assertProblem, call, type Env, freePort } from "./api_helpers.ts";
import {
  FAKE_RUNNER,
  postTraining,
  type Proc,
  readEvents,
  spawn,
  startApiProc,
  stop,
  storeContract,
  tinyRequest,
  waitTraining,
} from "./trainings_helpers.ts";

function redisInstalled(): boolean {
  try {
    return new Deno.Command("redis-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const HAVE_REDIS = redisInstalled();
if (!HAVE_REDIS) {
  console.warn(
    "redis_training_test: redis-server is not installed; the Redis tests are ignored " +
      "(apt-get install -y redis-server)",
  );
}

/** Starts redis-server on a free port (no persistence) and waits for PONG. */
async function startRedis(): Promise<Proc & { url: string }> {
  const port = freePort();
  const p = spawn("redis", "redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ], {});
  const deadline = Date.now() + 10_000;
  while (true) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buf = new Uint8Array(16);
      const n = await conn.read(buf);
      conn.close();
      if (n && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG")) {
        return { ...p, url: `redis://127.0.0.1:${port}` };
      }
    } catch {
      // Not up yet.
    }
    if (Date.now() > deadline) {
      await stop(p, "SIGKILL");
      throw new Error(`redis-server did not start:\n${await p.output}`);
    }
    await new Promise((ok) => setTimeout(ok, 30));
  }
}

/** Starts a worker process and waits until it says it is waiting for jobs. */
async function startWorker(name: string, env: Env): Promise<Proc> {
  const p = spawn(name, Deno.execPath(), ["run", "-A", "workers/worker_main.ts"], env);
  const deadline = Date.now() + 30_000;
  while (!p.seen().includes("waiting for trainings")) {
    const exited = await Promise.race([
      p.child.status.then(() => true),
      new Promise<false>((ok) => setTimeout(() => ok(false), 30)),
    ]);
    if (exited || Date.now() > deadline) {
      await stop(p, "SIGKILL");
      throw new Error(`${name} did not start:\n${await p.output}`);
    }
  }
  return p;
}

/** Runs `fn` with redis, the API and two workers up; stops everything afterwards. */
async function withCluster(
  extra: Env,
  fn: (c: {
    api: string;
    workers: Proc[];
    addWorker: (name: string) => Promise<Proc>;
  }) => Promise<void>,
): Promise<void> {
  const procs: Proc[] = [];
  const dirs: string[] = [];
  try {
    const redis = await startRedis();
    procs.push(redis);
    const env: Env = {
      INFOPLANE_REDIS_URL: redis.url,
      INFOPLANE_TRAINING_RUNNER: FAKE_RUNNER,
      INFOPLANE_FAKE_STEP_MS: "10",
      INFOPLANE_TRAINING_LOCK_MS: "1000",
      INFOPLANE_TRAINING_STALLED_MS: "500",
      INFOPLANE_TRAINING_ATTEMPTS: "2",
      INFOPLANE_WORKERS: "1",
      ...extra,
    };
    const dir = async () => {
      const d = await Deno.makeTempDir({ prefix: "infoplane-redis-" });
      dirs.push(d);
      return d;
    };
    const api = await startApiProc({ ...env, INFOPLANE_DATA_DIR: await dir() });
    procs.push(api);
    const addWorker = async (name: string) => {
      const w = await startWorker(name, { ...env, INFOPLANE_DATA_DIR: await dir() });
      procs.push(w);
      return w;
    };
    const workers = await Promise.all(["w1", "w2"].map(addWorker));
    try {
      await fn({ api: api.url, workers, addWorker });
    } catch (err) {
      for (const p of procs) console.error(`--- ${p.name} ---\n${p.seen().slice(-3000)}`);
      throw err;
    }
  } finally {
    // Workers and API first (graceful), Redis last.
    for (const p of procs.slice(1).reverse()) await stop(p, "SIGTERM", 5_000);
    if (procs[0]) await stop(procs[0], "SIGTERM", 5_000);
    for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
}

/** ~300 fake steps of 10 ms: a few seconds, long enough to kill a worker mid-job. */
const MEDIUM = tinyRequest({
  methods: [{ name: "e2e" }],
  dataset: { name: "mnist", train_limit: 64 * 150, test_limit: 256 },
  optimizer: { epochs: 2, batch_size: 64 },
});

Deno.test({
  name: "redis: a worker killed mid-job -> the other worker restarts it and it finishes",
  ignore: !HAVE_REDIS,
  fn: async () => {
    await withCluster({}, async ({ api, workers }) => {
      const h = await call(api, "/v1/health");
      assert.deepStrictEqual(h.body.trainings, { engine: "redis" });

      // A short job end to end first: events, result and CSV served by the API from Redis.
      const quick = await postTraining(api, tinyRequest());
      assert.deepStrictEqual(quick.status, 202, quick.text);
      const quickLog = await readEvents(api, quick.body.id);
      assert.deepStrictEqual(quickLog.events[quickLog.events.length - 1].data.status, "done");
      const quickDone = await waitTraining(api, quick.body.id);
      assert.deepStrictEqual(quickDone.body.result.methods.length, 2);
      const csv = await call(api, `/v1/trainings/${quick.body.id}.csv`);
      assert.deepStrictEqual(csv.text.trim().split(/\r?\n/).length, 1 + 2 * 3 * 3);

      const r = await postTraining(api, MEDIUM);
      assert.deepStrictEqual(r.status, 202, r.text);
      const id: string = r.body.id;
      const running = await waitTraining(api, id, (b) => b.progress?.step >= 20);
      const owner = running.body.worker as string;
      const victim = workers.find((w) => owner.endsWith(`:${w.child.pid}`));
      assert(victim, `worker ${owner} is one of ours`);
      const t0 = performance.now();
      victim.child.kill("SIGKILL");
      await victim.child.status;

      const done = await waitTraining(api, id, undefined, { timeoutMs: 30_000 });
      const took = ((performance.now() - t0) / 1000).toFixed(1);
      assert.deepStrictEqual(done.body.status, "done", JSON.stringify(done.body.error));
      assert.deepStrictEqual(done.body.attempts, 2);
      assert(done.body.worker !== owner, `restarted elsewhere (${done.body.worker})`);
      console.log(`job finished ${took} s after its worker was killed, on ${done.body.worker}`);
      const log = await readEvents(api, id);
      const messages = log.events.filter((e) => e.event === "log").map((e) => e.data.message);
      assert(
        messages.some((m) => m.includes("restarted from the beginning")),
        messages.join(" | "),
      );
      assert.deepStrictEqual(
        log.events.filter((e) => e.event === "started").length,
        2,
        "two starts",
      );
      assert.deepStrictEqual(done.body.result.methods[0].curves.length, 3);

      // Cancel across processes: the API writes Redis, the remaining worker stops.
      const c = await postTraining(api, MEDIUM);
      await waitTraining(api, c.body.id, (b) => b.progress?.step >= 5);
      const del = await call(api, `/v1/trainings/${c.body.id}`, { method: "DELETE" });
      assert.deepStrictEqual(del.body.status, "cancelled");
      const afterCancel = await waitTraining(api, c.body.id);
      const step = afterCancel.body.progress.step;
      await new Promise((ok) => setTimeout(ok, 500));
      const later = await call(api, `/v1/trainings/${c.body.id}`);
      assert.deepStrictEqual(later.body.status, "cancelled");
      assert(
        later.body.progress.step - step <= 5,
        `stopped: ${step} -> ${later.body.progress.step}`,
      );
      assertProblem(await call(api, `/v1/trainings/${c.body.id}`, { method: "DELETE" }), 409);
    });
  },
});

Deno.test({
  name: "redis: SIGTERM hands a running job to another worker; with attempts = 1 a kill fails it",
  ignore: !HAVE_REDIS,
  fn: async () => {
    await withCluster({ INFOPLANE_TRAINING_ATTEMPTS: "1" }, async ({ api, workers, addWorker }) => {
      // Graceful stop: the job goes back to the queue without using up an attempt.
      const g = await postTraining(api, MEDIUM);
      const gRunning = await waitTraining(api, g.body.id, (b) => b.progress?.step >= 10);
      const leaving = workers.find((w) => gRunning.body.worker.endsWith(`:${w.child.pid}`))!;
      const st = await stop(leaving, "SIGTERM", 10_000);
      assert.deepStrictEqual(st.code, 0, `graceful exit:\n${leaving.seen()}`);
      const gDone = await waitTraining(api, g.body.id, undefined, { timeoutMs: 30_000 });
      assert.deepStrictEqual(gDone.body.status, "done", JSON.stringify(gDone.body.error));
      assert.deepStrictEqual(gDone.body.attempts, 1, "a shutdown is not an attempt");
      workers = [workers.find((w) => w !== leaving)!, await addWorker("w3")];

      const r = await postTraining(api, MEDIUM);
      const running = await waitTraining(api, r.body.id, (b) => b.progress?.step >= 10);
      const victim = workers.find((w) => running.body.worker.endsWith(`:${w.child.pid}`))!;
      victim.child.kill("SIGKILL");
      await victim.child.status;
      const done = await waitTraining(api, r.body.id, undefined, { timeoutMs: 30_000 });
      assert.deepStrictEqual(done.body.status, "failed");
      assert(/interrupted|stalled/.test(done.body.error.message), done.body.error.message);
      console.log(`failed with: ${done.body.error.message}`);
    });
  },
});

Deno.test({
  name: "redis: the store contract (records, results once, events, uploads)",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const server = await startRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
    const dir = await Deno.makeTempDir({ prefix: "infoplane-redis-store-" });
    try {
      const store = new RedisTrainingStore(redis, "t");
      await storeContract(store, tinyRequest() as unknown as TrainingJob);
      // Uploads travel through Redis to a worker's own data dir.
      const bytes = new Uint8Array([1, 2, 3, 250]);
      await store.putUpload("u", bytes);
      const path = await store.uploadPath("u", dir);
      assert.deepStrictEqual(await Deno.readFile(path!), bytes);
      await store.deleteUpload("u", dir);
      assert.deepStrictEqual(await store.uploadPath("u", `${dir}/other`), null);
    } finally {
      await redis.quit();
      await stop(server, "SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
