/**
 * The job layer as the routes see it: create, read, list, cancel and delete jobs of any kind,
 * scoped to their owner, whichever engine is behind (embedded: Deno KV, runs here; fleet: Redis
 * and BullMQ, runs in `deno task worker` processes). Small analyses run at once on this
 * process's worker pool while the request waits, and are recorded like any job.
 *
 * @module
 */
import { v7 as uuidv7 } from "uuid";
import type { AnalysisOutput } from "../lib/analysis.ts";
import { dumpBuffers, formatBytes } from "../lib/dump/mod.ts";
import {
  ConflictError,
  InputError,
  NotFoundError,
  RateLimitError,
  StorageFullError,
  UnavailableError,
} from "../lib/errors.ts";
import { freeDiskBytes } from "./disk.ts";
import type { AnalysisSubmission, ReadOptions } from "../lib/analysis_request.ts";
import type { AnalyseTask, ReadTask } from "./analysis_worker.ts";
import type { JobExecutor } from "./executor.ts";
import type { TaskPool } from "./pool.ts";
import { retry } from "./retry.ts";
import { errorInfo } from "./runners.ts";
import {
  FINISHED,
  type JobKind,
  type JobQueue,
  type JobRecord,
  type JobRecordOf,
  type JobStatus,
  type JobStore,
  type JobTypes,
  type ListPage,
  type StoredEvent,
  UNFINISHED,
} from "./types.ts";

/** Ids are UUIDs: anything else is refused before it reaches a store key. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` has the form of a job id. */
export function isJobId(id: string): boolean {
  return ID.test(id);
}

/** Nouns of each kind, for messages. */
export const KIND_NOUNS: Record<JobKind, string> = {
  analysis: "analysis",
  training: "training",
  experiment: "experiment suite",
};

/** What {@link JobService} is built from. */
export interface JobServiceOptions {
  /** "embedded" (Deno KV, jobs run here) or "redis" (BullMQ, jobs run in worker processes). */
  mode: "embedded" | "redis";
  store: JobStore;
  queue: JobQueue;
  /** The analysis pool of this process (inline analyses). */
  pool: TaskPool<AnalyseTask, AnalysisOutput>;
  /** The pool that reads request bodies (kept apart: a long analysis must not hold up uploads). */
  readPool: TaskPool<ReadTask, AnalysisSubmission>;
  /** OpenBLAS threads per analysis task (see lib/linalg/threads.ts). */
  analysisThreads: number;
  /** Runs jobs here (embedded mode). */
  executor?: JobExecutor;
  /** Tells workers elsewhere to stop a job (fleet mode). */
  announceCancel?: (id: string) => Promise<void>;
  /** The fleet's workers and when each was last seen (fleet mode). */
  fleetWorkers?: () => Promise<Array<{ name: string; seen_at: string }>>;
  /** Starts of a job before an interrupted one fails. */
  attempts: number;
  /** Jobs waiting in the whole service before new ones are refused (503). */
  maxQueued?: number;
  /** Queued and running jobs one owner may have (429 beyond). */
  maxActiveJobs?: number;
  /** Where job data goes on this machine (free space checked); null: not on local disk. */
  diskPath?: string | null;
  /** Free bytes below which new work is refused (507) and health is degraded. */
  minFreeDiskBytes?: number;
  /** Finished jobs older than this many days are deleted by {@link JobService.sweep} (0: kept). */
  retentionDays?: number;
  /** The oldest finished jobs are deleted while finished jobs take more bytes (0: no cap). */
  retentionBytes?: number;
  /** This process's name in records ("api" for inline analyses). */
  name?: string;
}

/** Options of {@link JobService.submit}. */
export interface SubmitOptions {
  label?: string | null;
  /** The job's input (an uploaded dataset, a queued dump), kept as its blob "input". */
  input?: Uint8Array;
}

const now = () => new Date().toISOString();

/** Jobs of every kind. */
export class JobService {
  #closing = new AbortController();

  constructor(readonly opts: JobServiceOptions) {}

  /** The engine's mode. */
  get mode(): "embedded" | "redis" {
    return this.opts.mode;
  }

  /** The store (the routes read events through it). */
  get store(): JobStore {
    return this.opts.store;
  }

  /** Aborted when the service closes, so that open event streams end. */
  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  /** Load of this process: the analysis pool and the queue lanes. */
  get load(): {
    pool: { running: number; waiting: number };
    jobs: Record<string, { running: number; waiting: number }> | null;
  } {
    return {
      pool: { running: this.opts.pool.running, waiting: this.opts.pool.waiting },
      jobs: this.opts.queue.load(),
    };
  }

  /**
   * Creates a queued job.
   *
   * @param kind what it is
   * @param request what it is asked (resolved and validated by the caller)
   * @param owner who may see it
   * @param opts label and input blob
   * @returns its record
   */
  async submit<K extends JobKind>(
    kind: K,
    request: JobTypes[K]["request"],
    owner: string,
    opts: SubmitOptions = {},
  ): Promise<JobRecordOf<K>> {
    this.#open();
    await this.#admit(owner);
    const rec = newRecord(kind, request, owner, opts, this.opts.attempts);
    if (opts.input) await this.opts.store.putBlob(rec.id, "input", opts.input);
    await this.opts.store.create(rec as JobRecord);
    await this.opts.queue.enqueue(kind, rec.id);
    return rec;
  }

  /**
   * Reads an analysis request body in a Web Worker (the event loop stays free).
   *
   * @param body the raw body (moved to the worker)
   * @param contentType its Content-Type
   * @param opts byte and sample limits, the sync/queue threshold
   * @throws {InputError} (as a TaskError carrying its problem and field) for bad input
   */
  readAnalysis(
    body: Uint8Array,
    contentType: string,
    opts: ReadOptions,
  ): Promise<AnalysisSubmission> {
    this.#open();
    return this.opts.readPool.run({ op: "read", body, contentType, ...opts }, {
      transfer: [body.buffer as ArrayBuffer],
    });
  }

  /**
   * Runs a read analysis request: now on this process's pool, recorded as a job (done or
   * failed), or queued with its .npz as the job's input.
   *
   * @returns the record and, when it ran now, its result
   * @throws {InputError} (and the like) when the dump turns out to be unusable
   */
  async analyse(
    sub: AnalysisSubmission,
    owner: string,
  ): Promise<{ record: JobRecordOf<"analysis">; output: AnalysisOutput | null }> {
    this.#open();
    const request = {
      estimator: sub.estimator,
      options: sub.request,
      ...sub.shape,
    };
    const label = sub.label;
    if (sub.run.queue) {
      const input = sub.run.npz;
      return {
        record: await this.submit("analysis", request, owner, { label, input }),
        output: null,
      };
    }
    const dump = sub.run.dump;
    const rec = newRecord("analysis", request, owner, { label }, 1);
    const started = now();
    const running: JobRecordOf<"analysis"> = {
      ...rec,
      status: "running",
      attempts: 1,
      started_at: started,
      heartbeat_at: started,
      worker: this.opts.name ?? "api",
    };
    await this.opts.store.create(running);
    let output: AnalysisOutput;
    try {
      // Moved, not copied, into the worker: the request no longer needs the arrays.
      output = await this.opts.pool.run({
        op: "analyse",
        dump,
        config: sub.estimator,
        options: sub.request,
        threads: this.opts.analysisThreads,
      }, { transfer: dumpBuffers(dump) });
    } catch (err) {
      const error = errorInfo(err);
      await retry(() =>
        this.opts.store.update(rec.id, { status: "failed", error, finished_at: now() })
      ).catch(() => {});
      throw err;
    }
    const json = JSON.stringify(output);
    await retry(
      () =>
        this.opts.store.complete(rec.id, json, {
          finished_at: now(),
          progress: { done: 1, total: 1, fraction: 1, elapsed_s: output.compute.seconds, eta_s: 0 },
          bytes: json.length,
        }),
      { attempts: 20, maxMs: 5_000 },
    );
    const stored = await this.opts.store.get(rec.id);
    return { record: stored?.kind === "analysis" ? stored : running, output };
  }

  /**
   * The job `id` of `owner`.
   *
   * @param kind when given, a job of another kind is "not found" too
   * @throws {NotFoundError} for malformed ids, unknown ids, other owners' jobs
   */
  async get<K extends JobKind>(id: string, owner: string, kind: K): Promise<JobRecordOf<K>>;
  async get(id: string, owner: string): Promise<JobRecord>;
  async get(id: string, owner: string, kind?: JobKind): Promise<JobRecord> {
    const noun = kind ? KIND_NOUNS[kind] : "job";
    if (!isJobId(id)) throw new NotFoundError(`no ${noun} with id "${clip(id)}"`);
    const rec = await this.opts.store.get(id);
    if (!rec || rec.owner !== owner || (kind && rec.kind !== kind)) {
      throw new NotFoundError(`no ${noun} with id "${id}"`);
    }
    return rec;
  }

  /** The result of a done job, or null. */
  async result<K extends JobKind>(rec: JobRecordOf<K>): Promise<JobTypes[K]["result"] | null> {
    if (rec.status !== "done") return null;
    const text = await this.opts.store.result(rec.id);
    return text === null ? null : JSON.parse(text);
  }

  /** The result of a done job. @throws {ConflictError} while it is not done */
  async finishedResult<K extends JobKind>(rec: JobRecordOf<K>): Promise<JobTypes[K]["result"]> {
    const result = await this.result(rec);
    if (result === null) {
      throw new ConflictError(
        `${KIND_NOUNS[rec.kind]} "${rec.id}" is ${rec.status}; no result yet`,
      );
    }
    return result;
  }

  /**
   * Stops a queued or running job: it never starts, or stops within a step; the record stays,
   * with status "cancelled".
   *
   * @throws {NotFoundError} see {@link get}
   * @throws {ConflictError} when the job has already finished
   */
  async cancel<K extends JobKind>(id: string, owner: string, kind: K): Promise<JobRecordOf<K>> {
    const rec = await this.get(id, owner, kind);
    const { record, applied } = await this.opts.store.update(rec.id, {
      status: "cancelled",
      finished_at: now(),
    }, UNFINISHED);
    if (!applied || !record) {
      throw new ConflictError(
        `${KIND_NOUNS[kind]} "${id}" has already finished (${record?.status ?? "gone"})`,
      );
    }
    await this.#stop(kind, rec.id);
    return { ...rec, status: "cancelled", finished_at: record.finished_at };
  }

  /**
   * Deletes a job: cancels it if it runs, then removes its record, events, result and input.
   *
   * @throws {NotFoundError} see {@link get}
   */
  async remove(id: string, owner: string, kind: JobKind): Promise<void> {
    const rec = await this.get(id, owner, kind);
    if (!FINISHED.has(rec.status)) {
      await this.opts.store.update(rec.id, { status: "cancelled", finished_at: now() }, UNFINISHED);
      await this.#stop(kind, rec.id);
    }
    await this.opts.store.remove(rec.id);
  }

  /**
   * A page of the owner's jobs, newest first.
   *
   * @throws {InputError} for a malformed cursor or time
   */
  async list(query: {
    owner: string;
    kind?: JobKind;
    status?: JobStatus;
    label?: string;
    createdBefore?: string;
    createdAfter?: string;
    cursor?: string;
    limit: number;
  }): Promise<ListPage> {
    try {
      return await this.opts.store.list(query);
    } catch (e) {
      if (e instanceof TypeError && query.cursor) {
        throw new InputError("invalid-request", "cursor is not one this service issued", "cursor");
      }
      throw e;
    }
  }

  /** Logged events of a job from `from` on. */
  events(id: string, from: number): Promise<StoredEvent[]> {
    return this.opts.store.events(id, from);
  }

  /** The fleet's workers and when each was last seen; null in embedded mode. */
  async workers(): Promise<Array<{ name: string; seen_at: string }> | null> {
    return this.opts.fleetWorkers ? await this.opts.fleetWorkers() : null;
  }

  /** What is wrong with the job layer now (health): the store, the disk. */
  async problems(): Promise<string[]> {
    const out: string[] = [];
    try {
      await this.opts.store.ping();
    } catch (e) {
      out.push(`${this.opts.store.name} store: ${e instanceof Error ? e.message : e}`);
    }
    const disk = this.#diskProblem();
    if (disk) out.push(disk);
    return out;
  }

  /**
   * Deletes finished jobs past the retention settings: older than `retentionDays`, then the
   * oldest while finished jobs take more than `retentionBytes`.
   *
   * @returns the number of jobs deleted
   */
  async sweep(now = Date.now()): Promise<number> {
    const { retentionDays = 0, retentionBytes = 0 } = this.opts;
    if (retentionDays <= 0 && retentionBytes <= 0) return 0;
    const finished: Array<{ id: string; at: number; bytes: number }> = [];
    for (const status of FINISHED) {
      for await (const rec of this.opts.store.withStatus(status)) {
        finished.push({
          id: rec.id,
          at: Date.parse(rec.finished_at ?? rec.updated_at),
          bytes: rec.bytes,
        });
      }
    }
    finished.sort((a, b) => a.at - b.at);
    const cutoff = retentionDays > 0 ? now - retentionDays * 86_400_000 : -Infinity;
    let total = finished.reduce((s, f) => s + f.bytes, 0);
    let removed = 0;
    for (const f of finished) {
      const expired = f.at < cutoff;
      if (!expired && !(retentionBytes > 0 && total > retentionBytes)) break;
      if (await this.opts.store.remove(f.id)) removed++;
      total -= f.bytes;
    }
    return removed;
  }

  #diskProblem(): string | null {
    const { diskPath, minFreeDiskBytes = 0 } = this.opts;
    if (!diskPath || minFreeDiskBytes <= 0) return null;
    const free = freeDiskBytes(diskPath);
    if (free === null || free >= minFreeDiskBytes) return null;
    return `disk: ${formatBytes(free)} free under ${diskPath}, below ${
      formatBytes(minFreeDiskBytes)
    } ` +
      "(INFOPLANE_MIN_FREE_DISK_MB)";
  }

  /** Ends event streams; the engine itself is closed by whoever built it. */
  close(): void {
    this.#closing.abort();
  }

  /** Refuses a job when the queue is full or its owner has too many unfinished ones. */
  async #admit(owner: string): Promise<void> {
    const { maxQueued, maxActiveJobs } = this.opts;
    if (maxQueued !== undefined && await this.opts.queue.depth() >= maxQueued) {
      throw new UnavailableError(
        `${maxQueued} jobs are waiting already (INFOPLANE_MAX_QUEUED); try again later`,
        30,
      );
    }
    if (maxActiveJobs === undefined) return;
    // A set: a job that starts between the two reads is counted once.
    const ids = new Set<string>();
    for (const status of UNFINISHED) {
      const page = await this.opts.store.list({ owner, status, limit: maxActiveJobs });
      for (const r of page.items) ids.add(r.id);
    }
    const active = ids.size;
    if (active >= maxActiveJobs) {
      throw new RateLimitError(
        `you have ${active} jobs queued or running (INFOPLANE_MAX_ACTIVE_JOBS); wait for some ` +
          "to finish or cancel them",
        30,
      );
    }
  }

  #open(): void {
    if (this.#closing.signal.aborted) {
      throw new UnavailableError("the service is shutting down; send the request again");
    }
    const disk = this.#diskProblem();
    if (disk) throw new StorageFullError(`no new work is taken while the disk is full: ${disk}`);
  }

  async #stop(kind: JobKind, id: string): Promise<void> {
    const removed = await this.opts.queue.remove(kind, id);
    if (removed) await this.opts.store.deleteBlobs(id);
    this.opts.executor?.cancel(id);
    await this.opts.announceCancel?.(id);
  }
}

/**
 * A new job id: a UUID version 7 (RFC 9562), time-ordered and monotonic within a process, so
 * that ids sort in creation order and listings of jobs created in one millisecond keep it.
 */
export function newJobId(): string {
  return uuidv7();
}

/** A new queued record. */
export function newRecord<K extends JobKind>(
  kind: K,
  request: JobTypes[K]["request"],
  owner: string,
  opts: SubmitOptions,
  maxAttempts: number,
): JobRecordOf<K> {
  const t = now();
  return {
    id: newJobId(),
    kind,
    owner,
    label: opts.label ?? null,
    status: "queued",
    created_at: t,
    updated_at: t,
    started_at: null,
    finished_at: null,
    attempts: 0,
    max_attempts: maxAttempts,
    worker: null,
    heartbeat_at: null,
    request,
    progress: null,
    error: null,
    bytes: opts.input?.byteLength ?? 0,
  };
}

function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}
