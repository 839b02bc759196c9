/**
 * The fleet job queue: BullMQ on Redis, one BullMQ queue per job kind. A worker holds a lock on
 * each job it runs and renews it from its event loop (compute runs in Web Workers, so renewals
 * are never starved); when a worker dies its lock expires and another worker's stalled-job check
 * puts the job back in the queue, where it restarts from the beginning. A job is started at most
 * `attempts` times (BullMQ's maxStalledCount = attempts - 1); past that BullMQ gives up and
 * {@link BullMqOptions.onGaveUp} fails the record.
 *
 * @module
 */
import { Queue, UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { Job } from "bullmq";
import { Redis } from "ioredis";
import type { JobHandler, JobKind, JobQueue } from "./types.ts";

/** Options of {@link BullMqJobQueue}. */
export interface BullMqOptions {
  url: string;
  prefix: string;
  /** Lease of a running job: a worker silent for this long has lost it. */
  lockMs: number;
  /** Interval of the stalled-job check. */
  stalledMs: number;
  /** Starts of a job before BullMQ gives up on it. */
  attempts: number;
  /** Seconds BullMQ keeps a finished job's queue entry. */
  keepFinishedS: number;
  /** Shown in BullMQ's worker list. */
  workerName: string;
  /** A job's worker stopped responding; it is back in the queue. */
  onStalled?: (kind: JobKind, id: string) => void;
  /** BullMQ failed a job itself (it stalled too often): the record must say so. */
  onGaveUp?: (kind: JobKind, id: string, reason: string) => void;
  log?: (line: string) => void;
}

interface Payload {
  id: string;
}

/** A connection for BullMQ, which requires maxRetriesPerRequest: null (it retries itself). */
export function bullConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** BullMQ-backed {@link JobQueue}. */
export class BullMqJobQueue implements JobQueue {
  #queues = new Map<JobKind, { queue: Queue<Payload>; conn: Redis }>();
  #workers: Array<{ worker: Worker<Payload>; conn: Redis }> = [];
  #running = new Map<JobKind, number>();

  constructor(readonly opts: BullMqOptions) {}

  #queue(kind: JobKind): Queue<Payload> {
    let q = this.#queues.get(kind);
    if (!q) {
      const conn = bullConnection(this.opts.url);
      q = { queue: new Queue<Payload>(kind, { connection: conn, prefix: this.opts.prefix }), conn };
      this.#queues.set(kind, q);
    }
    return q.queue;
  }

  async enqueue(kind: JobKind, id: string): Promise<void> {
    const keep = { age: this.opts.keepFinishedS, count: 10_000 };
    await this.#queue(kind).add(kind, { id }, {
      jobId: id,
      // Errors of the job itself are final; retries after a lost worker come from stalls.
      attempts: 1,
      removeOnComplete: keep,
      removeOnFail: keep,
    });
  }

  async consume(kind: JobKind, concurrency: number, handler: JobHandler): Promise<void> {
    const conn = bullConnection(this.opts.url);
    const keep = { age: this.opts.keepFinishedS, count: 10_000 };
    const worker = new Worker<Payload>(
      kind,
      async (job: Job<Payload>, token?: string) => {
        this.#running.set(kind, (this.#running.get(kind) ?? 0) + 1);
        let outcome;
        try {
          outcome = await handler(kind, job.data.id);
        } finally {
          this.#running.set(kind, (this.#running.get(kind) ?? 1) - 1);
        }
        if (outcome === "interrupted") {
          await job.moveToWait(token);
          throw new WaitingError();
        }
        if (outcome === "failed") throw new UnrecoverableError(`${kind} failed`);
        return { outcome };
      },
      {
        connection: conn,
        prefix: this.opts.prefix,
        name: this.opts.workerName,
        concurrency,
        lockDuration: this.opts.lockMs,
        stalledInterval: this.opts.stalledMs,
        maxStalledCount: Math.max(0, this.opts.attempts - 1),
        removeOnComplete: keep,
        removeOnFail: keep,
      },
    );
    worker.on("stalled", (id: string) => this.opts.onStalled?.(kind, id));
    worker.on("failed", (job: Job<Payload> | undefined, err: Error) => {
      if (job && /stalled|started more than/.test(err.message)) {
        this.opts.onGaveUp?.(kind, job.data.id, err.message);
      }
    });
    worker.on("error", (err: Error) => this.opts.log?.(`${kind} queue: ${err.message}`));
    await worker.waitUntilReady();
    this.#workers.push({ worker, conn });
  }

  async remove(kind: JobKind, id: string): Promise<boolean> {
    // An active job is locked and remove() refuses it: its worker stops on the cancel message.
    return (await this.#queue(kind).remove(id).catch(() => 0)) === 1;
  }

  async depth(): Promise<number> {
    let n = 0;
    for (const kind of ["analysis", "training", "experiment"] as const) {
      n += await this.#queue(kind).getWaitingCount();
    }
    return n;
  }

  load(): null {
    return null; // jobs run in worker processes
  }

  /** Jobs running in this process (worker processes log it). */
  get running(): number {
    return [...this.#running.values()].reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    // BullMQ leaves connections it was given open.
    for (const { worker, conn } of this.#workers) {
      await worker.close();
      await conn.quit().catch(() => {});
    }
    for (const { queue, conn } of this.#queues.values()) {
      await queue.close();
      await conn.quit().catch(() => {});
    }
  }
}
