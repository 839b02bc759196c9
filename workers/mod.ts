/**
 * The job layer: how a request becomes a job, runs and is stored (docs/jobs.md has the
 * picture). One typed record for every kind (analysis, training, experiment), one store
 * interface with two implementations (Deno KV, embedded; Redis, fleets), one queue interface
 * (Deno KV's queue; BullMQ), a runner per kind, and Web Workers where the compute runs.
 *
 * - {@link openJobs}: the API process's side (embedded: it also runs the jobs).
 * - {@link startFleetWorker}: a `deno task worker` process of a fleet.
 *
 * @module
 */
import { hostname } from "node:os";
import { Redis } from "ioredis";
import type { AnalysisOutput } from "../lib/analysis.ts";
import { analysisThreads } from "../lib/linalg/mod.ts";
import type { Settings } from "../lib/settings.ts";
import type { AnalysisSubmission } from "../lib/analysis_request.ts";
import type { AnalyseTask, ReadTask } from "./analysis_worker.ts";
import { JobExecutor } from "./executor.ts";
import { type TaskPool, WorkerPool } from "./pool.ts";
import { BullMqJobQueue } from "./queue_bullmq.ts";
import { KvJobQueue } from "./queue_kv.ts";
import { DEFAULT_LIMITS } from "./recorder.ts";
import { createRunners } from "./runners.ts";
import { JobService } from "./service.ts";
import { KvJobStore } from "./store_kv.ts";
import { RedisJobStore } from "./store_redis.ts";
import { JOB_KINDS, type JobKind, type JobQueue, type JobStore } from "./types.ts";

export { isJobId, JobService, KIND_NOUNS, newRecord } from "./service.ts";
export type * from "./types.ts";
export { FINISHED, JOB_KINDS, UNFINISHED } from "./types.ts";
export { KvJobStore, openKvFile } from "./store_kv.ts";
export { RedisJobStore } from "./store_redis.ts";
export { DEFAULT_LIMITS, Recorder, type RecorderLimits } from "./recorder.ts";
export { EXPERIMENT_MODULE, inWorker } from "./runners.ts";
export { MemoryBudget, type Reservation } from "./budget.ts";
export { exitNow } from "./exit.ts";

/** An open job layer: the service the routes use, and how to close it all. */
export interface Jobs {
  service: JobService;
  /**
   * Stops running jobs at their next step (they are resumed later) and waits for them up to
   * `graceMs`; work that has not stopped by then is abandoned (its Web Workers terminated, its
   * jobs queued again), then everything is released.
   *
   * @returns whether work was abandoned inside a native call (leave with `exitNow` then)
   */
  close(graceMs?: number): Promise<boolean>;
}

/** What {@link openJobs} needs besides the settings. */
export interface OpenJobsOptions {
  /** The Deno KV handle of the embedded engine (the caller opens and closes it). */
  kv: Deno.Kv;
  /** Where the embedded engine keeps job blobs as files; null keeps them in KV. */
  blobDir: string | null;
  /**
   * Where this process may write (dataset caches, fetched inputs, the disk check): default the
   * settings' data dir; null when it has no local files (in-memory storage).
   */
  dataDir?: string | null;
  /**
   * Whether this isolate runs jobs (default true). False for the other isolates of a
   * `deno serve --parallel` process: they submit jobs to the shared KV queue, and the isolate
   * that runs them picks them up.
   */
  execute?: boolean;
  /**
   * A BroadcastChannel name shared by the isolates of one process on one KV file (`deno serve
   * --parallel`), through which those that do not run jobs hand them to the one that does.
   */
  channel?: string;
  log?: (line: string) => void;
}

const ANALYSIS_WORKER = new URL("./analysis_worker.ts", import.meta.url);

function analysisPool(settings: Settings): WorkerPool<AnalyseTask, AnalysisOutput> {
  return new WorkerPool(ANALYSIS_WORKER, settings.workers);
}

/** One worker reads request bodies, apart from the analyses. */
function readPool(): WorkerPool<ReadTask, AnalysisSubmission> {
  return new WorkerPool(ANALYSIS_WORKER, 1);
}

/** The admission and retention settings of a {@link JobService}. */
function limitOptions(settings: Settings, diskPath: string | null) {
  const l = settings.limits;
  return {
    maxQueued: l.maxQueued,
    maxActiveJobs: l.maxActiveJobs,
    diskPath,
    minFreeDiskBytes: l.minFreeDiskBytes,
    retentionDays: l.retentionDays,
    retentionBytes: l.retentionBytes,
  };
}

/** Deletes expired jobs every `sweepMs` (and once at start); returns the stopper. */
function sweeper(service: JobService, settings: Settings, log?: (l: string) => void): () => void {
  const { retentionDays, retentionBytes, sweepMs } = settings.limits;
  if (retentionDays <= 0 && retentionBytes <= 0) return () => {};
  const run = () =>
    service.sweep().then((n) => n > 0 && log?.(`retention: ${n} finished jobs deleted`))
      .catch((e) => log?.(`retention sweep failed: ${e}`));
  run();
  const timer = setInterval(run, sweepMs);
  return () => clearInterval(timer);
}

/** How many jobs of each kind one process runs at once. */
function concurrency(settings: Settings, kind: JobKind): number {
  return kind === "analysis" ? settings.workers : settings.jobs.trainingConcurrency;
}

function executorFor(
  settings: Settings,
  store: JobStore,
  pool: TaskPool<AnalyseTask, AnalysisOutput>,
  name: string,
  log?: (line: string) => void,
  dataDir: string | null = settings.dataDir,
): JobExecutor {
  const j = settings.jobs;
  return new JobExecutor({
    store,
    runners: createRunners({
      pool,
      analysisThreads: analysisThreads(settings.workers) ?? 0,
      trainingModule: j.trainingModule,
      cancelGraceMs: j.cancelGraceMs,
    }),
    dataDir,
    name,
    heartbeatMs: j.heartbeatMs,
    limits: { ...DEFAULT_LIMITS, maxEvents: j.maxEvents },
    transientTtlS: j.transientTtlS,
    log,
  });
}

/**
 * Opens the job layer of an API process: embedded (Deno KV; jobs run in this process) unless
 * INFOPLANE_REDIS_URL is set (then jobs are queued on BullMQ for worker processes, and only
 * small analyses run here).
 *
 * @param settings the service settings
 * @param opts the KV handle and blob directory of the embedded engine
 * @returns the service and its closer
 * @throws {Error} when Redis is configured but does not answer
 */
export async function openJobs(settings: Settings, opts: OpenJobsOptions): Promise<Jobs> {
  const j = settings.jobs;
  const pool = analysisPool(settings);
  const reader = readPool();
  const threads = analysisThreads(settings.workers) ?? 0;
  if (j.redisUrl) {
    const redis = storeConnection(j.redisUrl);
    await reachable(redis, j.redisUrl);
    const store = new RedisJobStore(redis, j.redisPrefix);
    const queue = bullQueue(settings, `api:${hostname()}:${Deno.pid}`, opts.log);
    const service = new JobService({
      mode: "redis",
      store,
      queue,
      pool,
      readPool: reader,
      analysisThreads: threads,
      attempts: j.attempts,
      ...limitOptions(settings, null),
      announceCancel: async (id) => void await redis.publish(store.cancelChannel, id),
      fleetWorkers: () => fleetWorkers(redis, j.redisPrefix),
    });
    const stopSweeping = sweeper(service, settings, opts.log);
    return {
      service,
      async close(graceMs = j.cancelGraceMs) {
        stopSweeping();
        service.close();
        const [abandoned] = await Promise.all([pool.shutdown(graceMs), reader.shutdown(graceMs)]);
        await queue.close();
        await redis.quit().catch(() => {});
        return abandoned;
      },
    };
  }
  const dataDir = opts.dataDir === undefined ? settings.dataDir : opts.dataDir;
  return await embedded(settings, opts, { pool, reader, threads, dataDir });
}

/** The embedded engine (Deno KV) on a pool: Web Workers, or this isolate (serverless). */
async function embedded(
  settings: Settings,
  opts: OpenJobsOptions,
  parts: {
    pool: TaskPool<AnalyseTask, AnalysisOutput>;
    reader: TaskPool<ReadTask, AnalysisSubmission>;
    threads: number;
    dataDir: string | null;
    /** Kinds this process runs (serverless: analyses only). */
    kinds?: readonly JobKind[];
    /** Whether to put back what a previous process left (not where isolates come and go). */
    recover?: boolean;
  },
): Promise<Jobs> {
  const j = settings.jobs;
  const { pool, reader, threads, dataDir } = parts;
  const store = new KvJobStore(opts.kv, opts.blobDir);
  const queue = new KvJobQueue(opts.kv, opts.channel);
  const execute = opts.execute ?? true;
  const executor = execute
    ? executorFor(settings, store, pool, "embedded", opts.log, dataDir)
    : undefined;
  if (executor) {
    if (parts.recover ?? true) await recoverEmbedded(store, queue);
    for (const kind of parts.kinds ?? JOB_KINDS) {
      await queue.consume(kind, concurrency(settings, kind), executor.execute);
    }
  }
  const service = new JobService({
    mode: "embedded",
    store,
    queue,
    pool,
    readPool: reader,
    analysisThreads: threads,
    executor,
    attempts: j.attempts,
    ...limitOptions(settings, dataDir),
  });
  const stopSweeping = execute ? sweeper(service, settings, opts.log) : () => {};
  const stopWaking = executor && opts.channel ? wakeStranded(store, queue, opts.log) : () => {};
  return {
    service,
    async close(graceMs = j.cancelGraceMs) {
      stopSweeping();
      stopWaking();
      service.close();
      executor?.abortAll();
      const [, abandoned] = await Promise.all([
        within(queue.close(), graceMs),
        pool.shutdown(graceMs),
        reader.shutdown(graceMs),
      ]);
      await executor?.abandon();
      await store.close();
      return abandoned;
    },
  };
}

/**
 * Opens the job layer of the serverless mode: no Web Workers, no FFI, no local files. Records,
 * results and inputs live in the given Deno KV (`Deno.openKv()` on Deno Deploy); small analyses
 * run inline in the request, large ones through the KV queue, run inline by its listener, on
 * the portable linear algebra. Trainings and experiment suites do not run here (the routes
 * refuse them). Nothing is recovered at start: isolates come and go while others run jobs.
 *
 * @param settings the service settings (mode "serverless")
 * @param opts the KV handle (blobs are kept in it)
 */
export async function openServerlessJobs(
  settings: Settings,
  opts: Omit<OpenJobsOptions, "blobDir" | "dataDir">,
): Promise<Jobs> {
  const { inlineAnalysisPool, inlineReadPool } = await import("./inline.ts");
  return await embedded(settings, { ...opts, blobDir: null }, {
    pool: inlineAnalysisPool(),
    reader: inlineReadPool(),
    threads: 0,
    dataDir: null,
    kinds: ["analysis"],
    recover: false,
  });
}

/** How often, and after how long, the executing isolate looks for jobs nobody announced. */
const STRANDED = { everyMs: 2_000, afterMs: 2_000 } as const;

/**
 * The executing isolate of `deno serve --parallel` learns of the jobs other isolates queue from
 * the KV queue and a BroadcastChannel, and on a loaded machine a job was missed by both: it
 * stayed queued until the next restart (seen in tests/deploy_modes_test.ts). The record is
 * the truth, so queued records older than a moment are put into their lanes (a job already
 * waiting or running is left alone).
 *
 * @returns a function that stops the checks
 */
function wakeStranded(
  store: JobStore,
  queue: KvJobQueue,
  log: (line: string) => void = console.error,
): () => void {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const before = Date.now() - STRANDED.afterMs;
      for await (const rec of store.withStatus("queued")) {
        if (Date.parse(rec.created_at) < before && queue.wake(rec.kind, rec.id)) {
          log(`${rec.kind} ${rec.id}: queued but never announced here; taken up from its record`);
        }
      }
    } catch {
      // The store is closing, or busy: the next tick tries again.
    } finally {
      busy = false;
    }
  }, STRANDED.everyMs);
  return () => clearInterval(timer);
}

/**
 * Puts back what a previous process on this data dir left unfinished: running jobs are queued
 * again (or failed once they have used their attempts), queued ones are re-enqueued (a
 * duplicate message is harmless: only one queued -> running claim succeeds). An analysis that
 * ran inline has no stored input and cannot be resumed: it fails, saying so.
 */
async function recoverEmbedded(store: JobStore, queue: JobQueue): Promise<void> {
  for await (const rec of store.withStatus("running")) {
    const resumable = rec.kind !== "analysis" || (await store.getBlob(rec.id, "input")) !== null;
    if (!resumable || rec.attempts >= rec.max_attempts) {
      await store.update(rec.id, {
        status: "failed",
        finished_at: new Date().toISOString(),
        error: {
          message: resumable
            ? `interrupted ${rec.attempts} times (the service stopped while it ran); not ` +
              "restarted again"
            : "interrupted by a restart of the service; send the request again",
        },
      }, ["running"]);
      await store.deleteBlobs(rec.id);
      continue;
    }
    const { applied } = await store.update(rec.id, { status: "queued", worker: null }, [
      "running",
    ]);
    if (!applied) continue;
    await store.appendEvents(rec.id, [{
      type: "log",
      message: "the service stopped while this job ran; it restarts from the beginning " +
        `(attempt ${rec.attempts + 1} of ${rec.max_attempts})`,
    }]);
  }
  for await (const rec of store.withStatus("queued")) await queue.enqueue(rec.kind, rec.id);
}

/** A fleet worker process: takes jobs of every kind from BullMQ and runs them. */
export interface FleetWorker {
  name: string;
  /**
   * Stops taking jobs; running ones go back to the queue for another worker.
   *
   * @returns whether work was abandoned inside a native call (leave with `exitNow` then)
   */
  close(): Promise<boolean>;
}

/**
 * Starts a fleet worker (`deno task worker`).
 *
 * @param settings the settings (INFOPLANE_REDIS_URL must be set)
 * @param opts name shown in records (default "host:pid") and a log sink
 * @throws {Error} when Redis is not configured or does not answer
 */
export async function startFleetWorker(
  settings: Settings,
  opts: { name?: string; log?: (line: string) => void } = {},
): Promise<FleetWorker> {
  const j = settings.jobs;
  if (!j.redisUrl) throw new Error("INFOPLANE_REDIS_URL is not set");
  const name = opts.name ?? `${hostname()}:${Deno.pid}`;
  const log = opts.log ?? ((line: string) => console.log(line));
  const redis = storeConnection(j.redisUrl);
  await reachable(redis, j.redisUrl);
  const store = new RedisJobStore(redis, j.redisPrefix);
  const pool = analysisPool(settings);
  const executor = executorFor(settings, store, pool, name, log);
  const queue = bullQueue(settings, name, log, store);
  const sub = new Redis(j.redisUrl, { maxRetriesPerRequest: null });
  await sub.subscribe(store.cancelChannel);
  sub.on("message", (_channel: string, id: string) => executor.cancel(id));
  for (const kind of JOB_KINDS) {
    await queue.consume(kind, concurrency(settings, kind), executor.execute);
  }
  // Seen by /v1/health: which workers are alive and when each last said so.
  const seen = () =>
    redis.hset(`${j.redisPrefix}:workers`, name, new Date().toISOString()).catch(() => 0);
  await seen();
  const beat = setInterval(seen, j.heartbeatMs);
  log(`infoplane worker ${name} waiting for jobs (${JOB_KINDS.join(", ")})`);
  return {
    name,
    async close() {
      clearInterval(beat);
      executor.abortAll();
      const [, abandoned] = await Promise.all([
        within(queue.close(), j.cancelGraceMs),
        pool.shutdown(j.cancelGraceMs),
      ]);
      await executor.abandon();
      await redis.hdel(`${j.redisPrefix}:workers`, name).catch(() => 0);
      await sub.quit().catch(() => {});
      await redis.quit().catch(() => {});
      return abandoned;
    },
  };
}

/** Resolves when `p` does, or after `ms`, whichever comes first. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise((ok) => timer = setTimeout(ok, ms))]);
  clearTimeout(timer);
}

/** The fleet's workers and when each last said it was alive (health). */
export async function fleetWorkers(
  redis: Redis,
  prefix: string,
): Promise<Array<{ name: string; seen_at: string }>> {
  const all = await redis.hgetall(`${prefix}:workers`);
  return Object.entries(all).map(([name, seen_at]) => ({ name, seen_at }));
}

function bullQueue(
  settings: Settings,
  workerName: string,
  log?: (line: string) => void,
  store?: JobStore,
): BullMqJobQueue {
  const j = settings.jobs;
  return new BullMqJobQueue({
    url: j.redisUrl!,
    prefix: j.redisPrefix,
    lockMs: j.lockMs,
    stalledMs: j.stalledMs,
    attempts: j.attempts,
    keepFinishedS: j.transientTtlS,
    workerName,
    log,
    onStalled: (kind, id) => {
      log?.(`${kind} ${id}: its worker stopped responding; re-queued`);
      store?.appendEvents(id, [{
        type: "log",
        message: "the worker running this job stopped responding; the job is back in the queue",
      }]).catch(() => {});
    },
    // BullMQ failed the job itself (stalled too often): the record must not stay "running".
    onGaveUp: (_kind, id, reason) => {
      store?.update(id, {
        status: "failed",
        finished_at: new Date().toISOString(),
        error: { message: `interrupted too often (its worker stopped responding): ${reason}` },
      }).then(({ applied }) => {
        if (applied) return store.deleteBlobs(id);
      }).catch(() => {});
    },
  });
}

/**
 * A connection for the store. Commands fail after a few reconnect tries instead of hanging, so
 * that the API can answer "unavailable" and the job layer's own retries decide how long to wait.
 */
function storeConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 3 });
}

/** Resolves once Redis answers; rejects with a readable message after `ms`. */
async function reachable(redis: Redis, url: string, ms = 15_000): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`cannot reach Redis at ${redactUrl(url)} (INFOPLANE_REDIS_URL)`)),
      ms,
    );
  });
  try {
    await Promise.race([redis.ping(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparsable URL)";
  }
}
