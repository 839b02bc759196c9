/**
 * The fleet mode against a real Redis: redis-server, the API (INFOPLANE_REDIS_URL) and
 * `workers/worker_main.ts` processes run as subprocesses on 127.0.0.1. For trainings and
 * analyses alike: a job's worker is killed with SIGKILL mid-job and the other worker takes it
 * over; with every worker gone the jobs wait, their heartbeat visibly stale, until a worker
 * returns; redis-server restarts mid-job (append-only file on) and nothing is lost; SIGTERM hands
 * a job over without using an attempt, and with attempts = 1 a kill fails it with a reason.
 * Skipped (ignore) when redis-server is not installed.
 */
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { TrainingJob } from "../lib/train/mod.ts";
import { RedisJobStore } from "../workers/mod.ts";
import { assertProblem, call, encodeNpz, type Env, freePort, makeDump } from "./api_helpers.ts";
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
    "workers_redis_test: redis-server is not installed; the Redis tests are ignored " +
      "(apt-get install -y redis-server)",
  );
}

/** A redis-server process; `dir` holds its append-only file when persistence is on. */
type RedisProc = Proc & { url: string; port: number; dir: string };

/**
 * Starts redis-server (on `port`, or a free one) and waits for PONG. With `dir`, the append-only
 * file is on (fsync always) so that a restart on the same dir keeps everything.
 */
async function startRedis(opts: { port?: number; dir?: string } = {}): Promise<RedisProc> {
  const port = opts.port ?? freePort();
  const persistence = opts.dir
    ? ["--dir", opts.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""]
    : ["--save", "", "--appendonly", "no"];
  const p = spawn("redis", "redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    ...persistence,
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
        return { ...p, url: `redis://127.0.0.1:${port}`, port, dir: opts.dir ?? "" };
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
  while (!p.seen().includes("waiting for jobs")) {
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

/** What a test gets from {@link withCluster}. */
interface Cluster {
  api: string;
  workers: Proc[];
  addWorker: (name: string) => Promise<Proc>;
  redis: RedisProc;
  /** Stops redis-server and starts it again on the same port and files. */
  restartRedis: (downMs: number) => Promise<void>;
}

/** Runs `fn` with a persistent redis, the API and two workers up; stops everything afterwards. */
async function withCluster(extra: Env, fn: (c: Cluster) => Promise<void>): Promise<void> {
  const procs: Proc[] = [];
  const dirs: string[] = [];
  const dir = async () => {
    const d = await Deno.makeTempDir({ prefix: "infoplane-redis-" });
    dirs.push(d);
    return d;
  };
  let redis = await startRedis({ dir: await dir() });
  try {
    const env: Env = {
      INFOPLANE_REDIS_URL: redis.url,
      INFOPLANE_TRAINING_RUNNER: FAKE_RUNNER,
      INFOPLANE_FAKE_STEP_MS: "10",
      INFOPLANE_JOB_LOCK_MS: "1000",
      INFOPLANE_JOB_STALLED_MS: "500",
      INFOPLANE_JOB_ATTEMPTS: "2",
      INFOPLANE_HEARTBEAT_MS: "200",
      INFOPLANE_WORKERS: "1",
      ...extra,
    };
    const api = await startApiProc({ ...env, INFOPLANE_DATA_DIR: await dir() });
    procs.push(api);
    const addWorker = async (name: string) => {
      const w = await startWorker(name, { ...env, INFOPLANE_DATA_DIR: await dir() });
      procs.push(w);
      return w;
    };
    const workers = await Promise.all(["w1", "w2"].map(addWorker));
    const restartRedis = async (downMs: number) => {
      await stop(redis, "SIGTERM", 5_000);
      await new Promise((ok) => setTimeout(ok, downMs));
      redis = await startRedis({ port: redis.port, dir: redis.dir });
    };
    try {
      await fn({ api: api.url, workers, addWorker, redis, restartRedis });
    } catch (err) {
      for (const p of [...procs, redis]) {
        console.error(`--- ${p.name} ---\n${p.seen().slice(-3000)}`);
      }
      throw err;
    }
  } finally {
    // Workers and API first (graceful), Redis last.
    for (const p of procs.reverse()) await stop(p, "SIGTERM", 5_000);
    await stop(redis, "SIGTERM", 5_000);
    for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
}

/** ~300 fake steps of 10 ms: a few seconds, long enough to kill a worker mid-job. */
const MEDIUM = tinyRequest({
  methods: [{ name: "e2e" }],
  dataset: { name: "mnist", train_limit: 64 * 150, test_limit: 256 },
  optimizer: { epochs: 2, batch_size: 64 },
});

/** Posts a queued analysis of a real dump (a few seconds of estimator work). */
async function postAnalysis(api: string, m: number): Promise<string> {
  const form = new FormData();
  const dump = makeDump({
    m,
    dx: 64,
    layers: { fc1: 64, fc2: 32, fc3: 16, out: 10 },
    steps: [0, 100, 200],
  });
  form.set("dump", new File([encodeNpz(dump) as BlobPart], "d.npz"));
  const r = await call(api, "/v1/analyses?async=true", { method: "POST", body: form });
  assert.deepStrictEqual(r.status, 202, r.text);
  assert(r.headers.get("retry-after"), "a 202 says when to look again");
  return r.body.id;
}

/** Polls an analysis until `done(body)` holds. */
async function waitAnalysis(
  api: string,
  id: string,
  // deno-lint-ignore no-explicit-any
  done: (b: any) => boolean = (b) => ["done", "failed", "cancelled"].includes(b.status),
  timeoutMs = 60_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const r = await call(api, `/v1/analyses/${id}`);
    assert.deepStrictEqual(r.status, 200, r.text);
    if (done(r.body)) return r;
    assert(Date.now() < deadline, `analysis ${id} still ${r.body.status}`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/** The worker process running a job, from the record's "host:pid". */
function runner(workers: Proc[], worker: string): Proc {
  const w = workers.find((p) => worker.endsWith(`:${p.child.pid}`));
  assert(w, `worker ${worker} is one of ours`);
  return w;
}

Deno.test({
  name: "redis: a worker killed mid-job -> the other takes it over (training and analysis)",
  ignore: !HAVE_REDIS,
  fn: async () => {
    await withCluster({}, async ({ api, workers, addWorker }) => {
      const h = await call(api, "/v1/health");
      assert.deepStrictEqual(h.body.jobs.engine, "redis");
      assert.deepStrictEqual(h.body.jobs.fleet.length, 2, JSON.stringify(h.body.jobs));

      // A short job end to end first: events, result and CSV served by the API from Redis.
      const quick = await postTraining(api, tinyRequest());
      assert.deepStrictEqual(quick.status, 202, quick.text);
      const quickLog = await readEvents(api, quick.body.id);
      assert.deepStrictEqual(quickLog.events[quickLog.events.length - 1].data.status, "done");
      const quickDone = await waitTraining(api, quick.body.id);
      assert.deepStrictEqual(quickDone.body.result.methods.length, 2);
      const csv = await call(api, `/v1/trainings/${quick.body.id}.csv`);
      assert.deepStrictEqual(csv.text.trim().split(/\r?\n/).length, 1 + 2 * 3 * 3);

      // Training: SIGKILL its worker mid-job.
      const r = await postTraining(api, MEDIUM);
      assert.deepStrictEqual(r.status, 202, r.text);
      const id: string = r.body.id;
      const running = await waitTraining(api, id, (b) => b.progress?.step >= 20);
      assert(
        running.body.heartbeat_age_s < 5,
        `a fresh heartbeat: ${running.body.heartbeat_age_s}`,
      );
      const owner = running.body.worker as string;
      const victim = runner(workers, owner);
      const t0 = performance.now();
      victim.child.kill("SIGKILL");
      await victim.child.status;
      const done = await waitTraining(api, id, undefined, { timeoutMs: 30_000 });
      const took = ((performance.now() - t0) / 1000).toFixed(1);
      assert.deepStrictEqual(done.body.status, "done", JSON.stringify(done.body.error));
      assert.deepStrictEqual(done.body.attempts, 2);
      assert(done.body.worker !== owner, `restarted elsewhere (${done.body.worker})`);
      console.log(`training finished ${took} s after its worker was killed`);
      const log = await readEvents(api, id);
      const messages = log.events.filter((e) => e.event === "log").map((e) => e.data.message);
      assert(
        messages.some((m) => m.includes("restarted from the beginning")),
        messages.join(" | "),
      );
      assert.deepStrictEqual(log.events.filter((e) => e.event === "started").length, 2);
      assert.deepStrictEqual(done.body.result.methods[0].curves.length, 3);

      // Analysis: the surviving worker runs it; a new worker joins; kill the one running it.
      const survivor = workers.find((w) => w !== victim)!;
      const a = await postAnalysis(api, 1536);
      const aRunning = await waitAnalysis(api, a, (b) => b.status === "running");
      assert(aRunning.body.worker.endsWith(`:${survivor.child.pid}`));
      survivor.child.kill("SIGKILL");
      await survivor.child.status;
      // No worker left: the job waits, its heartbeat ageing, until one returns.
      await new Promise((ok) => setTimeout(ok, 1500));
      const waiting = await call(api, `/v1/analyses/${a}`);
      assert(["running", "queued"].includes(waiting.body.status), waiting.body.status);
      assert(waiting.body.heartbeat_age_s > 1, `stale heartbeat: ${waiting.body.heartbeat_age_s}`);
      console.log(
        `no workers: analysis ${waiting.body.status}, heartbeat ${
          waiting.body.heartbeat_age_s.toFixed(1)
        } s old`,
      );
      const queuedMeanwhile = await postTraining(api, tinyRequest({ methods: [{ name: "e2e" }] }));
      await new Promise((ok) => setTimeout(ok, 300));
      assert.deepStrictEqual(
        (await waitTraining(api, queuedMeanwhile.body.id, () => true)).body.status,
        "queued",
      );
      await addWorker("w3");
      const aDone = await waitAnalysis(api, a);
      assert.deepStrictEqual(aDone.body.status, "done", JSON.stringify(aDone.body.error));
      assert.deepStrictEqual(aDone.body.attempts, 2);
      assert.deepStrictEqual(aDone.body.checkpoints.length, 3);
      const later = await waitTraining(api, queuedMeanwhile.body.id);
      assert.deepStrictEqual(later.body.status, "done");
    });
  },
});
Deno.test({
  name: "redis: SIGTERM hands a running job to another worker; with attempts = 1 a kill fails it",
  ignore: !HAVE_REDIS,
  fn: async () => {
    await withCluster({ INFOPLANE_JOB_ATTEMPTS: "1" }, async ({ api, workers, addWorker }) => {
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

      // Cancel across processes: the API writes Redis, the worker running the job stops.
      const c = await postTraining(api, MEDIUM);
      await waitTraining(api, c.body.id, (b) => b.progress?.step >= 5);
      const cancel = await call(api, `/v1/trainings/${c.body.id}/cancel`, { method: "POST" });
      assert.deepStrictEqual(cancel.body.status, "cancelled");
      const step = (await waitTraining(api, c.body.id)).body.progress.step;
      await new Promise((ok) => setTimeout(ok, 500));
      const later = await call(api, `/v1/trainings/${c.body.id}`);
      assert.deepStrictEqual(later.body.status, "cancelled");
      assert(
        later.body.progress.step - step <= 5,
        `stopped: ${step} -> ${later.body.progress.step}`,
      );
      assertProblem(await call(api, `/v1/trainings/${c.body.id}/cancel`, { method: "POST" }), 409);

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
  name: "redis: a redis-server restart mid-job loses nothing; finished jobs' transient keys expire",
  ignore: !HAVE_REDIS,
  fn: async () => {
    await withCluster({ INFOPLANE_REDIS_TRANSIENT_TTL_S: "600" }, async (c) => {
      const finished = await postTraining(c.api, tinyRequest());
      const before = await waitTraining(c.api, finished.body.id);
      assert.deepStrictEqual(before.body.status, "done");
      const inflight = await postTraining(c.api, MEDIUM);
      await waitTraining(c.api, inflight.body.id, (b) => b.progress?.step >= 20);
      const analysis = await postAnalysis(c.api, 256);
      const t0 = performance.now();
      await c.restartRedis(7_000);
      console.log(`redis-server down for ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const done = await waitTraining(c.api, inflight.body.id, undefined, { timeoutMs: 60_000 });
      assert.deepStrictEqual(done.body.status, "done", JSON.stringify(done.body.error));
      assert.deepStrictEqual(done.body.result.methods[0].curves.length, 3);
      const after = await waitTraining(c.api, finished.body.id);
      assert.deepStrictEqual(after.body.result, before.body.result, "the finished result is kept");
      const a = await waitAnalysis(c.api, analysis);
      assert.deepStrictEqual(a.body.status, "done", JSON.stringify(a.body.error));
      // Retention: the record and result stay, the event log of a finished job has a TTL.
      const redis = new Redis(c.redis.url);
      try {
        const ttl = await redis.ttl(`infoplane:job:${finished.body.id}:events`);
        assert(ttl > 0 && ttl <= 600, `events expire (ttl ${ttl})`);
        assert.deepStrictEqual(await redis.ttl(`infoplane:job:${finished.body.id}`), -1);
        assert.deepStrictEqual(await redis.ttl(`infoplane:job:${finished.body.id}:result`), -1);
      } finally {
        await redis.quit();
      }
    });
  },
});

Deno.test({
  name: "redis: the store contract (records, results once, events, blobs, listings)",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const server = await startRedis();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 3 });
    try {
      await storeContract(new RedisJobStore(redis, "t"), tinyRequest() as unknown as TrainingJob);
    } finally {
      await redis.quit();
      await stop(server, "SIGTERM");
    }
  },
});
