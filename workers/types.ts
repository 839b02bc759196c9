/**
 * The job layer's contracts: one typed record for every kind of job (analyses, trainings,
 * experiment suites), the store and queue interfaces that the embedded (Deno KV) and fleet
 * (Redis + BullMQ) engines implement, and the runner signature of each kind.
 *
 * @module
 */
import type { AnalysisOutput } from "../lib/analysis.ts";
import type { ExperimentJobSpec } from "../lib/experiments/mod.ts";
import type { SuiteResult } from "../lib/experiments/mod.ts";
import type { AnalysisRequest } from "../lib/measures/mod.ts";
import type { EstimatorConfig } from "../lib/nhsic/mod.ts";
import type { TrainingEvent, TrainingJob, TrainingResult } from "../lib/train/mod.ts";

/** Lifecycle of a job. */
export type JobStatus = "queued" | "running" | "done" | "failed" | "cancelled";

/** States a job never leaves. */
export const FINISHED: ReadonlySet<JobStatus> = new Set(["done", "failed", "cancelled"]);

/** States a job can still be cancelled or started from. */
export const UNFINISHED: readonly JobStatus[] = ["queued", "running"];

/** What an analysis job was asked: the estimator, the request fields, the dump's shape. */
export interface AnalysisJobRequest {
  estimator: EstimatorConfig;
  /** Measures, similarity maps and sweep asked for. */
  options: AnalysisRequest;
  /** Samples, layers per checkpoint and checkpoints of the dump. */
  m: number;
  layers: number;
  checkpoints: number;
}

/** Where an analysis is: estimator tasks done out of total. */
export interface AnalysisProgress {
  done: number;
  total: number;
}

/** Where a training (or an experiment suite, counted in method trainings) is. */
export interface TrainingProgress {
  /** Label of the method running now. */
  method: string | null;
  methods_done: number;
  methods_total: number;
  epoch: number;
  epochs: number;
  step: number;
  loss: number | null;
  test_accuracy: number | null;
}

/** Per kind: what it is asked, where it is, what it produces. */
export interface JobTypes {
  analysis: { request: AnalysisJobRequest; progress: AnalysisProgress; result: AnalysisOutput };
  training: { request: TrainingJob; progress: TrainingProgress; result: TrainingResult };
  experiment: { request: ExperimentJobSpec; progress: TrainingProgress; result: SuiteResult };
}

/** Kinds of job. */
export type JobKind = keyof JobTypes;

/** Every kind, in a stable order. */
export const JOB_KINDS: readonly JobKind[] = ["analysis", "training", "experiment"];

/** Timing every progress object carries. */
export interface ProgressTiming {
  /** Share of the work done, 0..1. */
  fraction: number;
  /** Seconds since the job (this attempt) started. */
  elapsed_s: number;
  /** Estimated seconds left (elapsed / fraction - elapsed), null until there is a basis. */
  eta_s: number | null;
}

/** Progress of a job of kind K. */
export type ProgressOf<K extends JobKind> = JobTypes[K]["progress"] & ProgressTiming;

/** Why a job failed (or what cancelled it). */
export interface JobError {
  message: string;
  /** Problem kind of an input error (lib/errors.ts), kept across worker boundaries. */
  problem?: string;
  field?: string;
}

/** The record of a job of kind K. */
export interface JobRecordOf<K extends JobKind> {
  id: string;
  kind: K;
  /** Who may see it: a hash of the API key, or "public". */
  owner: string;
  /** Free text the caller attached (for listing and search). */
  label: string | null;
  status: JobStatus;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Starts so far; a job interrupted by a crash restarts from the beginning. */
  attempts: number;
  /** Most starts allowed before an interrupted job is failed instead of restarted. */
  max_attempts: number;
  /** Which worker runs (or last ran) it: "host:pid", or "api" for inline analyses. */
  worker: string | null;
  /** Last sign of life of that worker while the job runs. */
  heartbeat_at: string | null;
  request: JobTypes[K]["request"];
  progress: ProgressOf<K> | null;
  error: JobError | null;
  /** Bytes kept for the job (input and result), once known: retention counts them. */
  bytes: number;
}

/** A record of any kind; narrow on `kind`. */
export type JobRecord = { [K in JobKind]: JobRecordOf<K> }[JobKind];

/** What may change on a record after creation. */
export type JobChange =
  & Partial<
    Pick<
      JobRecordOf<JobKind>,
      | "status"
      | "started_at"
      | "finished_at"
      | "attempts"
      | "worker"
      | "heartbeat_at"
      | "error"
      | "bytes"
    >
  >
  & { progress?: ProgressOf<JobKind> | null };

/** Result of a conditional update. */
export interface UpdateOutcome {
  /** The record after the call (unchanged when not applied); null when there is none. */
  record: JobRecord | null;
  applied: boolean;
}

/** Events a running job emits (trainings and suites; analyses report progress only). */
export type JobEvent = TrainingEvent;

/** A stored event with its position in the job's log (also the SSE id). */
export interface StoredEvent {
  seq: number;
  event: JobEvent;
}

/** Filters of a listing; newest first. */
export interface ListQuery {
  owner: string;
  kind?: JobKind;
  status?: JobStatus;
  /** Case-insensitive substring of the label. */
  label?: string;
  /** Created strictly before / at or after (ISO time). */
  createdBefore?: string;
  createdAfter?: string;
  /** Opaque position returned by the previous page. */
  cursor?: string;
  limit: number;
}

/** One page of a listing. */
export interface ListPage {
  items: JobRecord[];
  /** Pass back to get the next page; null on the last one. */
  cursor: string | null;
}

/**
 * Persistence of jobs: records (compare-and-set updates), event logs, results written once, and
 * named binary blobs (uploaded inputs). Deno KV (embedded) and Redis (fleet) implement it.
 */
export interface JobStore {
  /** Which implementation ("kv" or "redis"). */
  readonly name: string;
  /** Creates a record (status as given). */
  create(rec: JobRecord): Promise<void>;
  /** The record of a job, or null. */
  get(id: string): Promise<JobRecord | null>;
  /**
   * Applies `change` when the job's status is one of `from` (default: not finished), atomically
   * with respect to other writers of the same record.
   */
  update(id: string, change: JobChange, from?: readonly JobStatus[]): Promise<UpdateOutcome>;
  /** A page of the owner's jobs, newest first. */
  list(query: ListQuery): Promise<ListPage>;
  /** Appends events to the job's log; returns the number of events logged so far. */
  appendEvents(id: string, events: JobEvent[]): Promise<number>;
  /** Logged events with seq >= `from`, in order. */
  events(id: string, from: number): Promise<StoredEvent[]>;
  /**
   * Stores the result (written whole, once) and marks the job done with `change`, unless it
   * finished meanwhile (e.g. cancelled). Returns whether the job is now done with this result.
   */
  complete(id: string, resultJson: string, change: JobChange): Promise<boolean>;
  /** The stored result (JSON text) of a done job, or null. */
  result(id: string): Promise<string | null>;
  /** Keeps a named blob (e.g. "input") for the job. */
  putBlob(id: string, name: string, bytes: Uint8Array): Promise<void>;
  /** The blob's bytes, or null. */
  getBlob(id: string, name: string): Promise<Uint8Array | null>;
  /** Where the store keeps blobs as local files: the blob's path (it may not exist). */
  blobFile?(id: string, name: string): string | null;
  /** Forgets the job's blobs (once it finished). */
  deleteBlobs(id: string): Promise<void>;
  /** Removes the job entirely: record, events, result, blobs. Returns whether it existed. */
  remove(id: string): Promise<boolean>;
  /**
   * Gives a finished job's transient data (event log) a time to live, where the store can
   * expire keys; a no-op elsewhere.
   */
  expireTransient(id: string, seconds: number): Promise<void>;
  /** Records in a given state (start-up recovery, sweeps). */
  withStatus(status: JobStatus): AsyncIterable<JobRecord>;
  /**
   * Resolves when the job may have new events or a new status, or after `ms`: lets event
   * streams wake early where the store can tell (same process) and poll otherwise.
   */
  changed(id: string, ms: number, signal?: AbortSignal): Promise<void>;
  /** Throws when the store does not answer (health). */
  ping(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** How one attempt at a job ended. "interrupted": stopped by a shutdown, to be run again. */
export type Outcome = "done" | "failed" | "cancelled" | "interrupted" | "skipped";

/** Runs the job `id` of a kind to its end and says how it ended (the executor). */
export type JobHandler = (kind: JobKind, id: string) => Promise<Outcome>;

/**
 * Delivery of job ids to executors. The embedded queue is Deno KV's; the fleet's is BullMQ,
 * whose locks and stalled-job checks hand a dead worker's jobs to another.
 */
export interface JobQueue {
  /** Asks for `id` to be run (durable: survives a restart until delivered). */
  enqueue(kind: JobKind, id: string): Promise<void>;
  /**
   * Starts delivering jobs of `kind` to `handler`, at most `concurrency` at once in this
   * process.
   */
  consume(kind: JobKind, concurrency: number, handler: JobHandler): Promise<void>;
  /** Takes a job that has not started out of the queue (cancel); false when it had started. */
  remove(kind: JobKind, id: string): Promise<boolean>;
  /** Jobs running / waiting in this process, per kind (null where workers are elsewhere). */
  load(): Record<string, { running: number; waiting: number }> | null;
  /** Jobs waiting to start, all kinds together. */
  depth(): Promise<number>;
  /** Stops delivering; `drain` waits for the handlers running now. */
  close(): Promise<void>;
}

/** A job's input: a local file or bytes in memory. */
export type JobInput = { path: string } | { bytes: Uint8Array };

/** What a runner gets to do its job. */
export interface RunContext<K extends JobKind> {
  record: JobRecordOf<K>;
  /** This machine's data dir (dataset caches, fetched inputs). */
  dataDir: string;
  /**
   * The job's input blob: a local file where the store keeps files (fetched here from a remote
   * store), otherwise its bytes; null when the job has none.
   */
  input(): Promise<JobInput | null>;
  /** Aborted to stop the job (cancel or shutdown). */
  signal: AbortSignal;
  /** Records an event (never throws, never blocks). */
  emit(event: JobEvent): void;
  /** Reports progress of the kind (analysis runners; the others report through events). */
  progress(p: JobTypes[K]["progress"]): void;
}

/** Runs a job of kind K and returns its result. */
export type Runner<K extends JobKind> = (ctx: RunContext<K>) => Promise<JobTypes[K]["result"]>;

/** One runner per kind. */
export type RunnerRegistry = { [K in JobKind]: Runner<K> };
