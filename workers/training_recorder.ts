/**
 * Turns a runner's event stream into store writes: the event log (step events thinned out and
 * the log capped, so a long job cannot flood storage) and the record's progress (throttled).
 * Writes are batched off the runner's path; {@link EventRecorder.drain} flushes them.
 */
import type { TrainingEvent, TrainingJob } from "../lib/train/types.ts";
import type { TrainingProgress, TrainingStore } from "./training_types.ts";

/** Limits of the event log. */
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

/** Records the events of one run of one job. */
export class EventRecorder {
  #pending: TrainingEvent[] = [];
  #chain: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #due = 0;
  #count = 0;
  #truncated = false;
  #lastStep = 0;
  #lastStepMethod = "";
  #progress: TrainingProgress;
  #progressDirty = false;
  #lastProgressWrite = 0;
  #error: unknown = null;

  constructor(
    readonly store: TrainingStore,
    readonly id: string,
    job: TrainingJob,
    readonly limits: RecorderLimits = DEFAULT_LIMITS,
    /** Called when a progress write finds the job no longer running (e.g. cancelled). */
    readonly onNotRunning?: () => void,
  ) {
    this.#progress = {
      method: null,
      methods_done: 0,
      methods_total: job.methods.length,
      epoch: 0,
      epochs: job.optimizer.epochs,
      step: 0,
      loss: null,
      test_accuracy: null,
    };
  }

  /** The progress derived from the events so far. */
  get progress(): TrainingProgress {
    return { ...this.#progress };
  }

  /** Takes one event from the runner (never throws, never blocks). */
  push(e: TrainingEvent): void {
    this.#track(e);
    if (!this.#keep(e)) return;
    this.#pending.push(e);
    this.#schedule(e.type === "step" ? 100 : 20);
  }

  /** Waits until every accepted event and the last progress are written. */
  async drain(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#chain = this.#chain.then(() => this.#flush(true));
    await this.#chain;
    if (this.#error) throw this.#error;
  }

  #keep(e: TrainingEvent): boolean {
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

  #track(e: TrainingEvent) {
    const p = this.#progress;
    switch (e.type) {
      case "started":
        p.method = e.method;
        break;
      case "step":
        p.method = e.method;
        p.epoch = e.epoch;
        p.step = e.step;
        p.loss = e.loss;
        break;
      case "checkpoint":
        p.method = e.method;
        p.epoch = e.epoch;
        p.step = e.step;
        p.loss = e.train_loss;
        p.test_accuracy = e.test_accuracy;
        break;
      case "method_done":
        p.methods_done = Math.min(p.methods_total, p.methods_done + 1);
        p.test_accuracy = e.test_accuracy;
        break;
      default:
        return;
    }
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
    try {
      const batch = this.#pending;
      this.#pending = [];
      if (batch.length > 0) this.#count = await this.store.appendEvents(this.id, batch);
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
      // Kept for drain(): a storage failure must fail the job, not vanish in a timer.
      this.#error ??= err;
    }
  }
}
