/**
 * Types shared by the training job engines (embedded Deno KV, BullMQ on Redis), their stores and
 * the HTTP routes. The science contract (job, events, result) is lib/train/types.ts.
 */
import type { RunOptions, TrainingEvent, TrainingJob, TrainingResult } from "../lib/train/types.ts";

/** Lifecycle of a training job. */
export type TrainingStatus = "queued" | "running" | "done" | "failed" | "cancelled";

/** States a job never leaves. */
export const FINISHED: ReadonlySet<TrainingStatus> = new Set(["done", "failed", "cancelled"]);

/** States a job can still be cancelled or started from. */
export const UNFINISHED: readonly TrainingStatus[] = ["queued", "running"];

/** Where a running job is, derived from its events (throttled writes). */
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

/** Why a job failed (or what cancelled it). */
export interface TrainingError {
  message: string;
  problem?: string;
  field?: string;
}

/** Metadata kept for every training job. */
export interface TrainingRecord {
  id: string;
  owner: string;
  status: TrainingStatus;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Starts of this job so far; a job interrupted by a crash restarts from the beginning. */
  attempts: number;
  /** Most starts allowed before an interrupted job is failed instead of restarted. */
  max_attempts: number;
  /** Which worker runs (or last ran) it: "host:pid" (scale-out) or "embedded". */
  worker: string | null;
  /** Last sign of life of that worker while running (scale-out mode). */
  heartbeat_at: string | null;
  /** The resolved job (dataset.path of uploads is relative to the data dir). */
  job: TrainingJob;
  progress: TrainingProgress | null;
  error: TrainingError | null;
}

/** Fields a caller provides when creating a record. */
export type NewTraining = Pick<TrainingRecord, "id" | "owner" | "job" | "max_attempts">;

/** A stored event with its position in the job's log (also the SSE id). */
export interface StoredEvent {
  seq: number;
  event: TrainingEvent;
}

/** Result of a conditional update. */
export interface UpdateOutcome {
  /** The record after the call (unchanged when not applied); null when there is none. */
  record: TrainingRecord | null;
  applied: boolean;
}

/**
 * Persistence of training jobs. The embedded engine uses Deno KV; the scale-out engine uses Redis
 * so that an API on one machine reads what workers on others write.
 */
export interface TrainingStore {
  /** Creates a queued record. */
  create(rec: NewTraining): Promise<TrainingRecord>;
  /** The record of a job, or null. */
  get(id: string): Promise<TrainingRecord | null>;
  /**
   * Applies `change` when the job's status is one of `from` (default: not finished), atomically
   * with respect to other writers of the same record.
   */
  update(
    id: string,
    change: Partial<Omit<TrainingRecord, "id" | "owner" | "created_at">>,
    from?: readonly TrainingStatus[],
  ): Promise<UpdateOutcome>;
  /** Appends events to the job's log; returns the number of events logged so far. */
  appendEvents(id: string, events: TrainingEvent[]): Promise<number>;
  /** Logged events with seq >= `from`, in order. */
  events(id: string, from: number): Promise<StoredEvent[]>;
  /**
   * Stores the result (written whole, once) and marks the job done, unless it finished
   * meanwhile (e.g. cancelled). Returns whether the job is now done with this result.
   */
  complete(id: string, result: TrainingResult): Promise<boolean>;
  /** The result of a done job, or null. */
  result(id: string): Promise<TrainingResult | null>;
  /** Keeps an uploaded dataset (.npz bytes) for the job. */
  putUpload(id: string, bytes: Uint8Array): Promise<void>;
  /** Path of the job's uploaded dataset on this machine (fetched here when stored remotely). */
  uploadPath(id: string, dataDir: string): Promise<string | null>;
  /** Forgets the job's uploaded dataset (called once the job finished). */
  deleteUpload(id: string, dataDir: string): Promise<void>;
  /**
   * Resolves when the job may have new events or a new status, or after `ms`: lets event
   * streams wake early where the store can tell (same process) and poll otherwise.
   */
  changed(id: string, ms: number, signal?: AbortSignal): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Runs one training job (lib/train/run.ts's `runTraining`, or a stand-in in tests). */
export type TrainingRunner = (job: TrainingJob, opts: RunOptions) => Promise<TrainingResult>;

/** What the routes need from a training engine, whichever it is. */
export interface TrainingEngine {
  /** "embedded" (Deno KV, Web Workers in this process) or "redis" (BullMQ, separate workers). */
  readonly mode: "embedded" | "redis";
  readonly store: TrainingStore;
  /** Creates a queued job; `upload` is the .npz of a `{name: "upload"}` dataset. */
  submit(job: TrainingJob, owner: string, upload?: Uint8Array): Promise<TrainingRecord>;
  /**
   * Cancels a queued or running job: status "cancelled", and a running one stops within a step.
   * `applied` is false when the job had already finished.
   */
  cancel(id: string): Promise<UpdateOutcome>;
  /** Jobs running / waiting in this process (embedded) or null when workers are elsewhere. */
  readonly load: { running: number; queued: number } | null;
  /** Aborted when the engine closes, so that open event streams end. */
  readonly closing: AbortSignal;
  close(): Promise<void>;
}

/** An error with the problem kind and field of an input error, kept across worker boundaries. */
export function errorInfo(err: unknown): TrainingError {
  const e = err as { message?: string; problem?: string; field?: string };
  const out: TrainingError = { message: e?.message ?? String(err) };
  if (typeof e?.problem === "string") out.problem = e.problem;
  if (typeof e?.field === "string") out.field = e.field;
  return out;
}

/** The data-dir-relative path where a job's uploaded dataset is kept. */
export function uploadRelPath(id: string): string {
  return `uploads/${id}.npz`;
}
