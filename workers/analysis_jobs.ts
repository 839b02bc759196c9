/**
 * Runs analyses: small ones straight on the worker pool while the request waits, large ones
 * through the Deno KV queue (durable: the dump is kept on disk until its analysis finished, and
 * a message survives a restart). Results and states live in {@link AnalysisStore}.
 */
import type { AnalysisOutput } from "../lib/analysis.ts";
import { encodeNpz } from "../lib/dump/npz_write.ts";
import type { Dump, NdArray } from "../lib/dump/types.ts";
import { analysisThreads } from "../lib/linalg/threads.ts";
import type { EstimatorConfig } from "../lib/nhsic/config.ts";
import { type AnalysisRecord, AnalysisStore } from "./analysis_store.ts";
import type { AnalysisTask } from "./analysis_worker.ts";
import { TaskError, WorkerPool } from "./pool.ts";
import { KvQueue } from "./queue.ts";

/** Queue message of an analysis. */
interface AnalysisMessage {
  kind: "analysis";
  id: string;
}

/** What {@link AnalysisJobs.submit} returns: the record and, for synchronous runs, the output. */
export interface Submitted {
  record: AnalysisRecord;
  output: AnalysisOutput | null;
}

/** Work units of an analysis: m_batch * m per Gram/inverse, times the matrices involved. */
export function analysisWork(dump: Dump, cfg: EstimatorConfig): number {
  const m = dump.x.rows;
  const b = Math.min(cfg.batch_size ?? m, m);
  const matrices = dump.checkpoints.reduce((s, c) => s + c.layers.length, 0) + 2;
  return m * b * matrices;
}

/** The analysis job engine. */
export class AnalysisJobs {
  readonly store: AnalysisStore;
  #pool: WorkerPool<AnalysisTask, AnalysisOutput>;
  #queueDir: string;
  #threads: number;
  #queue: KvQueue;
  #ownsQueue: boolean;

  /**
   * `queue` is the process's shared KV queue dispatcher (one listener per KV handle); without
   * one, the engine creates and starts its own.
   */
  constructor(
    readonly kv: Deno.Kv,
    dataDir: string,
    workers: number,
    readonly syncWorkLimit: number,
    queue?: KvQueue,
  ) {
    this.store = new AnalysisStore(kv);
    this.#queue = queue ?? new KvQueue(kv);
    this.#ownsQueue = queue === undefined;
    this.#pool = new WorkerPool(new URL("./analysis_worker.ts", import.meta.url), workers);
    this.#queueDir = `${dataDir}/queue`;
    // 0: OPENBLAS_NUM_THREADS is set, leave the count alone (lib/linalg/threads.ts).
    this.#threads = analysisThreads(workers) ?? 0;
    Deno.mkdirSync(this.#queueDir, { recursive: true });
  }

  /**
   * Registers the queue handler, recovers analyses a previous process left running, and starts
   * the listener when the engine owns its queue (otherwise the caller calls `queue.listen()`).
   */
  async start(): Promise<void> {
    this.#queue.on("analysis", (msg) => this.#onMessage(msg));
    if (this.#ownsQueue) this.#queue.listen();
    for await (const rec of this.store.withStatus("running")) {
      if (await exists(this.#dumpPath(rec.id))) {
        await this.store.update(rec.id, { status: "queued", progress: null });
        await this.#queue.enqueue({ kind: "analysis", id: rec.id } satisfies AnalysisMessage);
      } else {
        await this.store.fail(rec.id, { message: "interrupted by a restart of the service" });
      }
    }
  }

  /** Pool load, for health reporting. */
  get load(): { running: number; waiting: number } {
    return { running: this.#pool.running, waiting: this.#pool.waiting };
  }

  /** Creates an analysis and runs it now (small) or queues it (large, or when asked). */
  async submit(
    dump: Dump,
    config: EstimatorConfig,
    owner: string,
    opts: { async?: boolean } = {},
  ): Promise<Submitted> {
    const id = crypto.randomUUID();
    const meta = {
      id,
      owner,
      m: dump.x.rows,
      layers: dump.checkpoints[0].layers.length,
      checkpoints: dump.checkpoints.length,
      estimator: config,
    };
    const queued = opts.async || analysisWork(dump, config) > this.syncWorkLimit;
    if (queued) {
      await Deno.writeFile(this.#dumpPath(id), encodeNpz(dumpArrays(dump)));
      const record = await this.store.create({ ...meta, status: "queued" });
      await this.#queue.enqueue({ kind: "analysis", id } satisfies AnalysisMessage);
      return { record, output: null };
    }
    await this.store.create({ ...meta, status: "running" });
    try {
      // Move, not copy, the arrays into the worker: the request no longer needs them.
      const output = await this.#pool.run({ dump, config, threads: this.#threads }, {
        transfer: dumpBuffers(dump),
      });
      return { record: await this.store.complete(id, output), output };
    } catch (err) {
      await this.store.fail(id, errorInfo(err));
      throw err;
    }
  }

  /**
   * Stops the workers, letting running analyses reach a safe point first. A queued analysis
   * interrupted here stays "running" and is re-queued by {@link start} in the next process.
   */
  async close(): Promise<void> {
    await this.#pool.shutdown();
  }

  #dumpPath(id: string): string {
    return `${this.#queueDir}/${id}.npz`;
  }

  async #onMessage(raw: unknown): Promise<void> {
    const msg = raw as AnalysisMessage;
    if (msg?.kind !== "analysis") return;
    const rec = await this.store.get(msg.id);
    if (!rec || rec.status === "done" || rec.status === "failed") return;
    await this.store.update(msg.id, { status: "running" });
    let lastWrite = 0;
    try {
      const output = await this.#pool.run({
        path: this.#dumpPath(msg.id),
        config: rec.estimator,
        threads: this.#threads,
      }, {
        onProgress: (done, total) => {
          const now = Date.now();
          if (now - lastWrite < 500) return;
          lastWrite = now;
          this.store.update(msg.id, { progress: { done, total } }).catch(() => {});
        },
      });
      await this.store.complete(msg.id, output);
    } catch (err) {
      if (err instanceof TaskError && err.problem === "cancelled") return; // resumed after restart
      await this.store.fail(msg.id, errorInfo(err));
    }
    await Deno.remove(this.#dumpPath(msg.id)).catch(() => {});
  }
}

function errorInfo(err: unknown): AnalysisRecord["error"] {
  if (err instanceof TaskError) {
    return { message: err.message, problem: err.problem, field: err.field };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The distinct ArrayBuffers behind a dump's arrays (several arrays may share one upload). */
function dumpBuffers(dump: Dump): ArrayBuffer[] {
  const all = [
    dump.x.data,
    dump.labels,
    ...dump.checkpoints.flatMap((c) => c.layers.map((l) => l.values.data)),
  ];
  return [...new Set(all.map((a) => a.buffer))].filter((b): b is ArrayBuffer =>
    b instanceof ArrayBuffer
  );
}

/** The arrays of a dump under the .npz keys of the dump format ("<step>/<layer>"). */
export function dumpArrays(dump: Dump): Record<string, NdArray> {
  const out: Record<string, NdArray> = {
    x: asNd(dump.x.data, [dump.x.rows, dump.x.cols]),
    y: { shape: [dump.labels.length], dtype: "int32", data: dump.labels },
  };
  for (const cp of dump.checkpoints) {
    for (const l of cp.layers) {
      out[`${cp.step}/${l.name}`] = asNd(l.values.data, [l.values.rows, l.values.cols]);
    }
  }
  return out;
}

function asNd(data: Float32Array | Float64Array, shape: number[]): NdArray {
  return { shape, dtype: data instanceof Float64Array ? "float64" : "float32", data };
}
