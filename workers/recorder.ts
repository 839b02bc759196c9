/**
 * Turns a running job's events and progress reports into store writes: the event log (step
 * events thinned out and the log capped, so a long job cannot flood storage) and the record's
 * progress with elapsed time and an estimate of what is left (throttled). Writes are batched
 * off the runner's path; a failed write is kept and retried at the next flush, and
 * {@link Recorder.drain} retries until the store answers or gives up after `drainAttempts`.
 *
 * @module
 */
import { retry } from "./retry.ts";
import type {
  AnalysisProgress,
  JobEvent,
  JobKind,
  JobStore,
  ProgressOf,
  ProgressTiming,
  TrainingProgress,
} from "./types.ts";

/** Limits of the event log and of progress writes. */
export interface RecorderLimits {
  /** Events logged per job before step events are dropped (checkpoints etc. go on to 2x). */
  maxEvents: number;
  /** Smallest interval between two logged step events of a method. */
  stepIntervalMs: number;
  /** Smallest interval between two progress writes to the record. */
  progressIntervalMs: number;
}

/** Defaults of {@link RecorderLimits}. */
export const DEFAULT_LIMITS: RecorderLimits = {
  maxEvents: 5000,
  stepIntervalMs: 250,
  progressIntervalMs: 500,
};

/** Where the job starts: what the progress counts towards. */
export type InitialProgress = AnalysisProgress | TrainingProgress;

/** Records the events and progress of one attempt at one job. */
export class Recorder {
  #pending: JobEvent[] = [];
  #chain: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = 0;
  #count = 0;
  #truncated = false;
  #lastStep = 0;
  #lastStepMethod = "";
  #progress: InitialProgress;
  #progressDirty = false;
  #lastProgressWrite = 0;
  #error: unknown = null;
  #t0 = performance.now();
  /** Training only: steps of the method running now (from its `started` event). */
  #methodSteps = 0;
  #methodStep = 0;

  /**
   * @param store where to write
   * @param id the job
   * @param kind its kind (decides how progress is read)
   * @param initial the progress at the start (totals filled in)
   * @param limits event log and write limits
   * @param onNotRunning called when a progress write finds the job no longer running
   */
  constructor(
    readonly store: JobStore,
    readonly id: string,
    readonly kind: JobKind,
    initial: InitialProgress,
    readonly limits: RecorderLimits = DEFAULT_LIMITS,
    readonly onNotRunning?: () => void,
  ) {
    this.#progress = { ...initial };
  }

  /** The progress so far, with timing. */
  get progress(): ProgressOf<JobKind> {
    const fraction = Math.max(0, Math.min(1, this.#fraction()));
    const elapsed = (performance.now() - this.#t0) / 1000;
    const timing: ProgressTiming = {
      fraction,
      elapsed_s: elapsed,
      eta_s: fraction >= 0.01 && elapsed >= 1 ? elapsed / fraction - elapsed : null,
    };
    return { ...this.#progress, ...timing } as ProgressOf<JobKind>;
  }

  /** Takes one event from the runner (never throws, never blocks). */
  push(e: JobEvent): void {
    this.#track(e);
    if (!this.#keep(e)) return;
    this.#pending.push(e);
    this.#schedule(e.type === "step" ? 100 : 20);
  }

  /** Takes a progress report of an analysis. */
  report(p: AnalysisProgress): void {
    this.#progress = { ...p };
    this.#dirty();
  }

  /**
   * Waits until every accepted event and the last progress are written, retrying failed
   * writes with backoff.
   *
   * @param attempts tries before giving up (the job still finishes; only events are lost)
   */
  async drain(attempts = 8): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await retry(async () => {
      this.#error = null;
      this.#chain = this.#chain.then(() => this.#flush(true));
      await this.#chain;
      if (this.#error) throw this.#error;
    }, { attempts, baseMs: 200, maxMs: 5_000 });
  }

  #fraction(): number {
    const p = this.#progress;
    if ("total" in p) return p.total > 0 ? p.done / p.total : 0;
    if (p.methods_total === 0) return 0;
    const inMethod = this.#methodSteps > 0 ? this.#methodStep / this.#methodSteps : 0;
    return (p.methods_done + Math.min(1, inMethod)) / p.methods_total;
  }

  #keep(e: JobEvent): boolean {
    const count = this.#count + this.#pending.length;
    if (e.type === "step") {
      if (count >= this.limits.maxEvents) return false;
      const now = performance.now();
      if (e.method === this.#lastStepMethod && now - this.#lastStep < this.limits.stepIntervalMs) {
        return false;
      }
      this.#lastStep = now;
      this.#lastStepMethod = e.method;
      return true;
    }
    if (count < 2 * this.limits.maxEvents) return true;
    if (!this.#truncated) {
      this.#truncated = true;
      this.#pending.push({ type: "log", message: "event log full: later events are not kept" });
    }
    return false;
  }

  #track(e: JobEvent) {
    const p = this.#progress;
    if ("total" in p) return;
    switch (e.type) {
      case "started":
        p.method = e.method;
        p.epoch = 0;
        p.step = 0;
        if (e.epochs !== undefined) p.epochs = e.epochs;
        this.#methodSteps = e.total_steps ?? 0;
        this.#methodStep = 0;
        break;
      case "step":
        p.method = e.method;
        p.epoch = Math.min(e.epoch, p.epochs);
        p.step = e.step;
        p.loss = e.loss;
        this.#methodStep = e.step;
        break;
      case "checkpoint":
        p.method = e.method;
        p.epoch = Math.min(e.epoch, p.epochs);
        p.step = e.step;
        p.loss = e.train_loss;
        p.test_accuracy = e.test_accuracy;
        this.#methodStep = e.step;
        break;
      case "method_done":
        p.methods_done = Math.min(p.methods_total, p.methods_done + 1);
        p.test_accuracy = e.test_accuracy;
        this.#methodSteps = 0;
        break;
      default:
        return;
    }
    this.#dirty();
  }

  #dirty() {
    this.#progressDirty = true;
    this.#schedule(this.limits.progressIntervalMs);
  }

  #schedule(ms: number) {
    const due = performance.now() + ms;
    if (this.#timer !== undefined) {
      if (this.#due <= due) return;
      clearTimeout(this.#timer);
    }
    this.#due = due;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#chain = this.#chain.then(() => this.#flush(false));
    }, ms);
  }

  async #flush(final: boolean) {
    const batch = this.#pending;
    this.#pending = [];
    let appended = batch.length === 0;
    try {
      if (!appended) {
        this.#count = await this.store.appendEvents(this.id, batch);
        appended = true;
      }
      const now = performance.now();
      if (
        this.#progressDirty &&
        (final || now - this.#lastProgressWrite >= this.limits.progressIntervalMs)
      ) {
        this.#progressDirty = false;
        this.#lastProgressWrite = now;
        const { applied } = await this.store.update(
          this.id,
          { progress: this.progress },
          ["running"],
        );
        if (!applied) this.onNotRunning?.();
      } else if (this.#progressDirty) {
        this.#schedule(this.limits.progressIntervalMs);
      }
    } catch (err) {
      // A store blip: the batch goes back in front, the error is kept for drain().
      if (!appended) this.#pending = [...batch, ...this.#pending];
      this.#error ??= err;
      this.#progressDirty = true;
      if (!final) this.#schedule(1_000);
    }
  }
}
