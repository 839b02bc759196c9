/**
 * The scale-out training engine: with INFOPLANE_REDIS_URL set, the API only queues jobs (BullMQ)
 * and reads their state (Redis); any number of `deno task worker` processes run them.
 *
 * Failure handling: a worker holds a BullMQ lock on its job and renews it from its event loop
 * (the training itself runs in a Web Worker, so renewals are never starved). When a worker dies,
 * its lock expires and another worker's stalled-job check puts the job back in the queue; it
 * restarts from the beginning. A job is started at most `attempts` times (BullMQ
 * maxStalledCount = attempts - 1); past that BullMQ fails it and the record says why.
 */
import { hostname } from "node:os";
import { Queue, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import { InputError } from "../lib/errors.ts";
import type { TrainingJob } from "../lib/train/types.ts";
import type { TrainingConfig } from "./training_config.ts";
import { executeTraining, type StopReason } from "./training_execute.ts";
import { DEFAULT_LIMITS, type RecorderLimits } from "./training_recorder.ts";
import { RedisTrainingStore } from "./training_store_redis.ts";
import {
  FINISHED,
  type TrainingEngine,
  type TrainingRecord,
  type TrainingRunner,
  UNFINISHED,
  type UpdateOutcome,
} from "./training_types.ts";

/** Largest uploaded dataset kept in Redis (a Redis string holds at most 512 MiB). */
const MAX_REDIS_UPLOAD = 512 * 1024 * 1024 - 1024;

/** Name of the BullMQ queue of training jobs. */
export const QUEUE_NAME = "trainings";

/** BullMQ payload: only the id; the job itself is in the record. */
interface Payload {
  id: string;
}

/** A connection for BullMQ, which requires maxRetriesPerRequest: null (it retries itself). */
function connect(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** A connection for the store: requests fail after a few retries instead of hanging. */
function connectStore(url: string): Redis {
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

/** API side of the scale-out mode: queues jobs and serves their state from Redis. */
export class RedisTrainingEngine implements TrainingEngine {
  readonly mode = "redis" as const;
  readonly store: RedisTrainingStore;
  readonly load = null;
  #redis: Redis;
  #queueConn: Redis;
  #queue: Queue<Payload>;
  #closing = new AbortController();

  /** `dataDir`: the API's data dir (where a cancelled upload's local copy would be). */
  constructor(readonly cfg: TrainingConfig, readonly dataDir: string) {
    if (!cfg.redisUrl) throw new Error("INFOPLANE_REDIS_URL is not set");
    this.#redis = connectStore(cfg.redisUrl);
    this.store = new RedisTrainingStore(this.#redis, cfg.redisPrefix);
    this.#queueConn = connect(cfg.redisUrl);
    this.#queue = new Queue<Payload>(QUEUE_NAME, {
      connection: this.#queueConn,
      prefix: cfg.redisPrefix,
    });
  }

  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** Waits for Redis (fails fast with a clear message when it is unreachable). */
  async start(): Promise<void> {
    await reachable(this.#redis, this.cfg.redisUrl!);
    await this.#queue.waitUntilReady();
  }

  async submit(job: TrainingJob, owner: string, upload?: Uint8Array): Promise<TrainingRecord> {
    if (upload && upload.byteLength > MAX_REDIS_UPLOAD) {
      throw new InputError(
        "too-large",
        `the dataset file is ${upload.byteLength} bytes; with Redis the limit is ` +
          `${MAX_REDIS_UPLOAD} bytes (one Redis string)`,
        "dataset",
      );
    }
    const id = crypto.randomUUID();
    if (upload) await this.store.putUpload(id, upload);
    const rec = await this.store.create({ id, owner, job, max_attempts: this.cfg.attempts });
    await this.#queue.add("training", { id }, {
      jobId: id,
      // Errors of the job itself are final; retries after a lost worker come from stalls.
      attempts: 1,
      removeOnComplete: { age: 7 * 86_400, count: 10_000 },
      removeOnFail: { age: 30 * 86_400, count: 10_000 },
    });
    return rec;
  }

  async cancel(id: string): Promise<UpdateOutcome> {
    const out = await this.store.update(id, {
      status: "cancelled",
      finished_at: new Date().toISOString(),
    }, UNFINISHED);
    if (!out.applied) return out;
    await this.#redis.publish(this.store.cancelChannel, id);
    // A job still waiting leaves the queue now; an active one is locked (remove refuses) and
    // its worker stops on the message above or at its next heartbeat.
    const removed = await this.#queue.remove(id).catch(() => 0);
    if (removed === 1) await this.store.deleteUpload(id, this.dataDir);
    return out;
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.#queue.close();
    // BullMQ leaves connections it was given open.
    await this.#queueConn.quit().catch(() => {});
    await this.#redis.quit().catch(() => {});
  }
}

/** Options of {@link RedisTrainingWorker}. */
export interface RedisWorkerOptions {
  cfg: TrainingConfig;
  runner: TrainingRunner;
  /** This machine's data dir (dataset caches, fetched uploads). */
  dataDir: string;
  /** Shown in records and logs; default "<host>:<pid>". */
  name?: string;
  limits?: RecorderLimits;
  log?: (line: string) => void;
}

/** Worker side of the scale-out mode: takes jobs from BullMQ and runs them. */
export class RedisTrainingWorker {
  readonly name: string;
  readonly store: RedisTrainingStore;
  #redis: Redis;
  #sub: Redis;
  #workerConn: Redis;
  #worker: Worker<Payload> | null = null;
  #running = new Map<string, AbortController>();
  #log: (line: string) => void;

  constructor(readonly opts: RedisWorkerOptions) {
    const url = opts.cfg.redisUrl;
    if (!url) throw new Error("INFOPLANE_REDIS_URL is not set");
    this.name = opts.name ?? `${hostname()}:${Deno.pid}`;
    this.#redis = connectStore(url);
    this.#sub = connect(url);
    this.#workerConn = connect(url);
    this.store = new RedisTrainingStore(this.#redis, opts.cfg.redisPrefix);
    this.#log = opts.log ?? ((line) => console.log(line));
  }

  /** Jobs running in this worker now. */
  get running(): number {
    return this.#running.size;
  }

  /** Connects and starts taking jobs. */
  async start(): Promise<void> {
    const { cfg } = this.opts;
    await reachable(this.#redis, cfg.redisUrl!);
    await this.#sub.subscribe(this.store.cancelChannel);
    this.#sub.on("message", (_channel: string, id: string) => {
      this.#running.get(id)?.abort("cancel" satisfies StopReason);
    });
    this.#worker = new Worker<Payload>(
      QUEUE_NAME,
      (job, token) => this.#process(job, token),
      {
        connection: this.#workerConn,
        prefix: cfg.redisPrefix,
        name: this.name,
        concurrency: cfg.concurrency,
        lockDuration: cfg.lockMs,
        stalledInterval: cfg.stalledMs,
        maxStalledCount: Math.max(0, cfg.attempts - 1),
        removeOnComplete: { age: 7 * 86_400, count: 10_000 },
        removeOnFail: { age: 30 * 86_400, count: 10_000 },
      },
    );
    this.#worker.on("stalled", (id: string) => {
      this.#log(`training ${id}: its worker stopped responding; re-queued`);
      this.store.appendEvents(id, [{
        type: "log",
        message: "the worker running this job stopped responding; the job is back in the queue",
      }]).catch(() => {});
    });
    // Covers jobs BullMQ fails itself (stalled too often): the record must not stay "running".
    this.#worker.on("failed", (job: Job<Payload> | undefined, err: Error) => {
      if (!job) return;
      this.store.update(job.data.id, {
        status: "failed",
        finished_at: new Date().toISOString(),
        error: {
          message: /stalled|started more than/.test(err.message)
            ? `interrupted too often (its worker stopped responding): ${err.message}`
            : err.message,
        },
      }).then(({ applied }) => {
        if (applied) this.store.deleteUpload(job.data.id, this.opts.dataDir).catch(() => {});
      }).catch(() => {});
    });
    this.#worker.on("error", (err: Error) => this.#log(`worker error: ${err.message}`));
    await this.#worker.waitUntilReady();
    this.#log(`infoplane worker ${this.name} waiting for trainings`);
  }

  /**
   * Stops taking jobs; running ones are aborted at their next step and put back in the queue
   * (not counted as an attempt), so another worker restarts them.
   */
  async close(): Promise<void> {
    for (const c of this.#running.values()) c.abort("shutdown" satisfies StopReason);
    await this.#worker?.close();
    await this.#workerConn.quit().catch(() => {});
    await this.#sub.quit().catch(() => {});
    await this.#redis.quit().catch(() => {});
  }

  async #process(job: Job<Payload>, token?: string): Promise<{ outcome: string }> {
    const id = job.data.id;
    const rec = await this.store.get(id);
    if (!rec || FINISHED.has(rec.status)) return { outcome: rec?.status ?? "missing" };
    if (rec.attempts >= rec.max_attempts) {
      const message = `interrupted ${rec.attempts} times (its worker stopped responding); ` +
        "not restarted again";
      await this.store.update(id, {
        status: "failed",
        finished_at: new Date().toISOString(),
        error: { message },
      });
      throw new UnrecoverableError(message);
    }
    const now = new Date().toISOString();
    const { record, applied } = await this.store.update(id, {
      status: "running",
      attempts: rec.attempts + 1,
      started_at: now,
      heartbeat_at: now,
      worker: this.name,
      progress: null,
      error: null,
    }, UNFINISHED);
    if (!applied || !record) return { outcome: "skipped" };
    if (record.attempts > 1) {
      await this.store.appendEvents(id, [{
        type: "log",
        message: `restarted from the beginning on ${this.name} ` +
          `(attempt ${record.attempts} of ${record.max_attempts})`,
      }]);
    }
    this.#log(`training ${id}: started (attempt ${record.attempts})`);
    const controller = new AbortController();
    this.#running.set(id, controller);
    // Heartbeat for observers; it also notices a cancel whose message this worker missed.
    const beat = setInterval(() => {
      this.store.update(id, { heartbeat_at: new Date().toISOString() }, ["running"])
        .then(({ applied, record }) => {
          if (!applied && record?.status === "cancelled" && !controller.signal.aborted) {
            controller.abort("cancel" satisfies StopReason);
          }
        }).catch(() => {});
    }, Math.min(2_000, Math.max(200, this.opts.cfg.lockMs / 2)));
    let outcome;
    try {
      outcome = await executeTraining(record, {
        store: this.store,
        runner: this.opts.runner,
        dataDir: this.opts.dataDir,
        limits: this.opts.limits ?? DEFAULT_LIMITS,
        controller,
      });
    } finally {
      clearInterval(beat);
      this.#running.delete(id);
    }
    this.#log(`training ${id}: ${outcome}`);
    if (outcome === "interrupted") {
      await this.store.update(id, { status: "queued", attempts: rec.attempts, worker: null }, [
        "running",
      ]);
      await this.store.appendEvents(id, [{
        type: "log",
        message: `worker ${this.name} shut down; the job waits for another worker`,
      }]);
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (outcome === "failed") {
      const err = (await this.store.get(id))?.error;
      throw new UnrecoverableError(err?.message ?? "training failed");
    }
    return { outcome };
  }
}
