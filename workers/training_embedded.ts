/**
 * The embedded training engine (default): jobs go through the process's Deno KV queue, state
 * lives in the same Deno KV, and each job runs in its own Web Worker; nothing to install.
 *
 * Restart safety: a queue message only wakes the engine; the record's status is the truth. At
 * start-up, queued jobs are enqueued again (duplicates are harmless: only one queued -> running
 * transition succeeds) and jobs a dead process left "running" restart from the beginning, or
 * fail once they have been started `max_attempts` times.
 */
import type { TrainingJob } from "../lib/train/types.ts";
import type { KvQueue, QueueMessage } from "./queue.ts";
import { executeTraining, type StopReason } from "./training_execute.ts";
import type { RecorderLimits } from "./training_recorder.ts";
import { KvTrainingStore } from "./training_store_kv.ts";
import type {
  TrainingEngine,
  TrainingRecord,
  TrainingRunner,
  UpdateOutcome,
} from "./training_types.ts";
import { UNFINISHED } from "./training_types.ts";

const KIND = "training";

/** Options of {@link EmbeddedTrainingEngine}. */
export interface EmbeddedOptions {
  dataDir: string;
  /** Jobs run at once. */
  concurrency: number;
  /** Starts of a job before an interrupted one is failed. */
  attempts: number;
  limits: RecorderLimits;
  runner: TrainingRunner;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
}

/** Training jobs on Deno KV + Web Workers, inside the API process. */
export class EmbeddedTrainingEngine implements TrainingEngine {
  readonly mode = "embedded" as const;
  readonly store: KvTrainingStore;
  #waiting: string[] = [];
  #running = new Map<string, Running>();
  #closing = new AbortController();

  constructor(readonly kv: Deno.Kv, readonly queue: KvQueue, readonly opts: EmbeddedOptions) {
    this.store = new KvTrainingStore(kv, opts.dataDir);
  }

  get closing(): AbortSignal {
    return this.#closing.signal;
  }

  get load(): { running: number; queued: number } {
    return { running: this.#running.size, queued: this.#waiting.length };
  }

  /** Registers the queue handler and recovers jobs of a previous process (before listen()). */
  async start(): Promise<void> {
    this.queue.on(KIND, (msg) => this.#onMessage(msg));
    for await (const rec of this.store.withStatus("running")) {
      if (rec.attempts >= rec.max_attempts) {
        await this.store.update(rec.id, {
          status: "failed",
          finished_at: new Date().toISOString(),
          error: {
            message: `interrupted ${rec.attempts} times (the service stopped while it ran); ` +
              "not restarted again",
          },
        }, ["running"]);
        await this.store.deleteUpload(rec.id, this.opts.dataDir);
        continue;
      }
      const { applied } = await this.store.update(
        rec.id,
        { status: "queued", worker: null },
        ["running"],
      );
      if (!applied) continue;
      await this.store.appendEvents(rec.id, [{
        type: "log",
        message: `the service stopped while this job ran; it restarts from the beginning ` +
          `(attempt ${rec.attempts + 1} of ${rec.max_attempts})`,
      }]);
    }
    for await (const rec of this.store.withStatus("queued")) {
      await this.queue.enqueue({ kind: KIND, id: rec.id });
    }
  }

  async submit(job: TrainingJob, owner: string, upload?: Uint8Array): Promise<TrainingRecord> {
    const id = crypto.randomUUID();
    if (upload) await this.store.putUpload(id, upload);
    const rec = await this.store.create({ id, owner, job, max_attempts: this.opts.attempts });
    await this.queue.enqueue({ kind: KIND, id });
    return rec;
  }

  async cancel(id: string): Promise<UpdateOutcome> {
    const out = await this.store.update(id, {
      status: "cancelled",
      finished_at: new Date().toISOString(),
    }, UNFINISHED);
    if (!out.applied) return out;
    const run = this.#running.get(id);
    if (run) run.controller.abort("cancel" satisfies StopReason);
    else await this.store.deleteUpload(id, this.opts.dataDir);
    return out;
  }

  /**
   * Stops: running jobs are aborted at their next step and stay "running" in the store, so the
   * next process on this data dir restarts them (an interrupted attempt is not counted).
   */
  async close(): Promise<void> {
    this.#closing.abort();
    this.#waiting = [];
    const runs = [...this.#running.values()];
    for (const r of runs) r.controller.abort("shutdown" satisfies StopReason);
    await Promise.all(runs.map((r) => r.done));
    await this.store.close();
  }

  #onMessage(msg: QueueMessage) {
    if (this.#closing.signal.aborted) return;
    if (this.#running.has(msg.id) || this.#waiting.includes(msg.id)) return;
    this.#waiting.push(msg.id);
    this.#pump();
  }

  #pump() {
    while (
      !this.#closing.signal.aborted &&
      this.#running.size < this.opts.concurrency &&
      this.#waiting.length > 0
    ) {
      const id = this.#waiting.shift()!;
      const controller = new AbortController();
      const run: Running = { controller, done: Promise.resolve() };
      this.#running.set(id, run);
      run.done = this.#run(id, controller)
        .catch((err) => console.error(`training ${id}:`, err))
        .finally(() => {
          this.#running.delete(id);
          this.#pump();
        });
    }
  }

  async #run(id: string, controller: AbortController): Promise<void> {
    const rec = await this.store.get(id);
    if (!rec || rec.status !== "queued") return;
    const { record, applied } = await this.store.update(id, {
      status: "running",
      attempts: rec.attempts + 1,
      started_at: new Date().toISOString(),
      worker: "embedded",
      progress: null,
      error: null,
    }, ["queued"]);
    if (!applied || !record) return;
    const outcome = await executeTraining(record, {
      store: this.store,
      runner: this.opts.runner,
      dataDir: this.opts.dataDir,
      limits: this.opts.limits,
      controller,
    });
    if (outcome === "interrupted") {
      // Stopped by close(): not the job's fault, so the attempt is given back.
      await this.store.update(id, { attempts: rec.attempts }, ["running"]);
    }
  }
}
