/**
 * Runs jobs, whichever queue delivered them: claims a job (queued -> running, one more attempt),
 * keeps a heartbeat on its record, runs its kind's runner, records events and progress, and
 * writes the outcome. A finished computation is never lost to a store blip: the result is
 * written with retries until the store answers (or this process shuts down, in which case the
 * job stays running and is restarted elsewhere).
 *
 * @module
 */
import { suiteSize } from "../lib/experiments/mod.ts";
import { type InitialProgress, Recorder, type RecorderLimits } from "./recorder.ts";
import { retry } from "./retry.ts";
import { errorInfo } from "./runners.ts";
import {
  FINISHED,
  type JobInput,
  type JobKind,
  type JobRecord,
  type JobRecordOf,
  type JobStore,
  type Outcome,
  type RunContext,
  type Runner,
  type RunnerRegistry,
  UNFINISHED,
} from "./types.ts";

/** Why a running job was aborted. */
export type StopReason = "cancel" | "shutdown";

/** What {@link JobExecutor} needs. */
export interface ExecutorOptions {
  store: JobStore;
  runners: RunnerRegistry;
  /** This machine's data dir (dataset caches, fetched inputs); null: no local files. */
  dataDir: string | null;
  /** Shown in records and logs ("host:pid"). */
  name: string;
  /** Interval of heartbeat writes while a job runs. */
  heartbeatMs: number;
  limits: RecorderLimits;
  /** Time to live of a finished job's transient keys (where the store expires keys). */
  transientTtlS: number;
  log?: (line: string) => void;
}

const now = () => new Date().toISOString();

/** Executes jobs of every kind in this process. */
export class JobExecutor {
  #running = new Map<string, AbortController>();
  #closing = new AbortController();

  constructor(readonly opts: ExecutorOptions) {}

  /** Jobs running in this process now. */
  get running(): number {
    return this.#running.size;
  }

  /** Asks a job running here to stop at its next step; false when it does not run here. */
  cancel(id: string): boolean {
    const run = this.#running.get(id);
    run?.abort("cancel" satisfies StopReason);
    return run !== undefined;
  }

  /**
   * Stops every running job at its next step; their records go back to "queued" for another
   * worker (or the next start), the interrupted attempt not counted.
   */
  abortAll(): void {
    this.#closing.abort();
    for (const run of this.#running.values()) run.abort("shutdown" satisfies StopReason);
  }

  /**
   * After {@link abortAll} and a grace period: jobs still running here (stuck in a computation
   * that cannot be interrupted) are put back in the queue for the next start, as if they had
   * stopped, so that abandoning them loses no attempt.
   */
  async abandon(): Promise<void> {
    for (const id of this.#running.keys()) {
      const rec = await this.opts.store.get(id).catch(() => null);
      if (!rec || rec.status !== "running") continue;
      await this.opts.store.update(id, {
        status: "queued",
        attempts: Math.max(0, rec.attempts - 1),
        worker: null,
      }, ["running"]).catch(() => {});
    }
    this.#running.clear();
  }

  /** Runs job `id` (delivered for `kind`) to its end: the {@link JobHandler} of the queues. */
  execute = async (kind: JobKind, id: string): Promise<Outcome> => {
    if (this.#closing.signal.aborted) return "interrupted";
    const rec = await retry(() => this.opts.store.get(id), { signal: this.#closing.signal });
    if (!rec || rec.kind !== kind || FINISHED.has(rec.status)) return "skipped";
    if (rec.attempts >= rec.max_attempts) {
      await this.#fail(rec.id, {
        message: `interrupted ${rec.attempts} times (its worker stopped responding or the ` +
          "service restarted); not restarted again",
      });
      return "failed";
    }
    const initial = initialProgress(rec);
    switch (rec.kind) {
      case "analysis":
        return await this.#attempt(rec, this.opts.runners.analysis, initial);
      case "training":
        return await this.#attempt(rec, this.opts.runners.training, initial);
      case "experiment":
        return await this.#attempt(rec, this.opts.runners.experiment, initial);
    }
  };

  async #attempt<K extends JobKind>(
    rec: JobRecordOf<K>,
    runner: Runner<K>,
    initial: InitialProgress,
  ): Promise<Outcome> {
    const { store, name } = this.opts;
    const claimed = await store.update(rec.id, {
      status: "running",
      attempts: rec.attempts + 1,
      started_at: now(),
      heartbeat_at: now(),
      worker: name,
      progress: null,
      error: null,
    }, UNFINISHED);
    if (!claimed.applied || !claimed.record) return "skipped";
    const record = claimed.record as JobRecordOf<K>; // the same record, one attempt later
    if (record.attempts > 1) {
      await store.appendEvents(record.id, [{
        type: "log",
        message: `restarted from the beginning on ${name} ` +
          `(attempt ${record.attempts} of ${record.max_attempts})`,
      }]).catch(() => {});
    }
    this.opts.log?.(`${record.kind} ${record.id}: started (attempt ${record.attempts})`);
    const controller = new AbortController();
    this.#running.set(record.id, controller);
    const signal = controller.signal;
    const recorder = new Recorder(
      store,
      record.id,
      record.kind,
      initial,
      this.opts.limits,
      // A progress write found the job no longer running: someone cancelled it (possibly from
      // another machine); stop at the next step.
      () => !signal.aborted && controller.abort("cancel" satisfies StopReason),
    );
    const beat = setInterval(() => {
      store.update(record.id, { heartbeat_at: now() }, ["running"]).then(({ applied, record }) => {
        if (!applied && record?.status === "cancelled" && !signal.aborted) {
          controller.abort("cancel" satisfies StopReason);
        }
      }).catch(() => {}); // a missed beat is no harm; the next one may pass
    }, this.opts.heartbeatMs);
    let outcome: Outcome;
    try {
      const ctx: RunContext<K> = {
        record,
        dataDir: this.opts.dataDir ?? "",
        input: () => this.#input(record.id),
        signal,
        emit: (e) => recorder.push(e),
        progress: (p) => recorder.report(p as { done: number; total: number }),
      };
      const result = await runner(ctx);
      await recorder.drain().catch((e) => this.opts.log?.(`${record.id}: events lost: ${e}`));
      const json = JSON.stringify(result);
      const finished = await retry(
        () =>
          store.complete(record.id, json, {
            finished_at: now(),
            progress: { ...recorder.progress, fraction: 1, eta_s: 0 },
            bytes: record.bytes + json.length,
          }),
        {
          attempts: Infinity,
          maxMs: 10_000,
          signal: this.#closing.signal,
          onRetry: this.#warn(record.id),
        },
      );
      outcome = finished ? "done" : await this.#settledAs(record.id);
    } catch (err) {
      await recorder.drain(2).catch(() => {});
      if (signal.aborted && signal.reason === "shutdown") {
        outcome = "interrupted";
      } else if (signal.aborted) {
        await retry(() => store.update(record.id, { status: "cancelled", finished_at: now() }));
        outcome = "cancelled";
      } else {
        await this.#fail(record.id, errorInfo(err));
        outcome = await this.#settledAs(record.id);
      }
    } finally {
      clearInterval(beat);
      this.#running.delete(record.id);
    }
    this.opts.log?.(`${record.kind} ${record.id}: ${outcome}`);
    if (outcome === "interrupted") {
      await store.update(record.id, {
        status: "queued",
        attempts: rec.attempts,
        worker: null,
      }, ["running"]).catch(() => {});
      await store.appendEvents(record.id, [{
        type: "log",
        message: `${name} shut down; the job waits for another worker (or the next start)`,
      }]).catch(() => {});
    } else {
      await store.deleteBlobs(record.id).catch(() => {});
      await store.expireTransient(record.id, this.opts.transientTtlS).catch(() => {});
    }
    return outcome;
  }

  async #input(id: string): Promise<JobInput | null> {
    const { store, dataDir } = this.opts;
    const local = store.blobFile?.(id, "input");
    if (local) return await exists(local) ? { path: local } : null;
    if (dataDir) {
      // A remote store: fetched once per machine and attempt into the data dir.
      const path = `${dataDir}/jobs/${id}/input`;
      if (await exists(path)) return { path };
      const bytes = await retry(() => store.getBlob(id, "input"));
      if (!bytes) return null;
      await Deno.mkdir(`${dataDir}/jobs/${id}`, { recursive: true });
      await Deno.writeFile(path, bytes);
      return { path };
    }
    const bytes = await retry(() => store.getBlob(id, "input"));
    return bytes ? { bytes } : null;
  }

  async #fail(id: string, error: JobRecord["error"]): Promise<void> {
    await retry(() => this.opts.store.update(id, { status: "failed", error, finished_at: now() }), {
      attempts: 20,
      maxMs: 10_000,
      signal: this.#closing.signal,
      onRetry: this.#warn(id),
    });
  }

  #warn(id: string) {
    return (err: unknown, attempt: number) =>
      this.opts.log?.(`${id}: store write failed (try ${attempt}), retrying: ${err}`);
  }

  async #settledAs(id: string): Promise<Outcome> {
    const status = (await this.opts.store.get(id).catch(() => null))?.status;
    return status === "done" || status === "cancelled" ? status : "failed";
  }
}

/** What a job's progress counts towards, before it starts. */
function initialProgress(rec: JobRecord): InitialProgress {
  if (rec.kind === "analysis") return { done: 0, total: 0 };
  const training = {
    method: null,
    methods_done: 0,
    epoch: 0,
    step: 0,
    loss: null,
    test_accuracy: null,
  };
  if (rec.kind === "training") {
    return {
      ...training,
      methods_total: rec.request.methods.length,
      epochs: rec.request.optimizer.epochs,
    };
  }
  const size = suiteSize(rec.request);
  return { ...training, methods_total: size.method_trainings, epochs: size.epochs };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
