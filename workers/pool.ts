/**
 * A fixed set of Web Workers that run CPU-heavy tasks off the event loop. Tasks wait in memory
 * for a free worker; durability is the job engine's concern (Deno KV queue), not the pool's.
 */

/** Messages a pool worker posts back: progress, then exactly one result or error. */
export type WorkerReply<T> =
  | { type: "progress"; done: number; total: number }
  | { type: "done"; value: T }
  | { type: "error"; message: string; problem?: string; field?: string };

/** What a worker receives: the task and its cancel flag. */
export interface TaskEnvelope<I> {
  input: I;
  /** Int32Array over a SharedArrayBuffer; non-zero means "stop at the next safe point". */
  cancel: Int32Array;
}

/** Thrown inside a worker task that stopped because it was cancelled or the pool shuts down. */
export class CancelledError extends Error {
  constructor() {
    super("cancelled");
    this.name = "CancelledError";
  }
}

/** A task's value with the buffers to move (not copy) back to the host. */
export class Transfer<O> {
  constructor(readonly value: O, readonly transfer: Transferable[]) {}
}

/** Tools a task gets from {@link serveTasks}. */
export interface TaskContext {
  progress(done: number, total: number): void;
  /** Throws {@link CancelledError} when the pool asked its workers to stop. */
  checkCancelled(): void;
}

/**
 * Worker side of the pool: runs `handler` for every task posted to this worker and replies.
 * Errors with `problem`/`field` properties (input errors) keep them across the boundary.
 */
export function serveTasks<I, O>(
  handler: (input: I, ctx: TaskContext) => Promise<O | Transfer<O>> | O | Transfer<O>,
): void {
  const post = (msg: WorkerReply<O>, transfer: Transferable[] = []) =>
    (self as unknown as Worker).postMessage(msg, transfer);
  self.onmessage = async (e: MessageEvent<TaskEnvelope<I>>) => {
    const { input, cancel } = e.data;
    let last = 0;
    const ctx: TaskContext = {
      progress(done, total) {
        const now = performance.now();
        if (now - last > 200 || done === total) {
          last = now;
          post({ type: "progress", done, total });
        }
      },
      checkCancelled() {
        if (Atomics.load(cancel, 0) !== 0) throw new CancelledError();
      },
    };
    try {
      const out = await handler(input, ctx);
      if (out instanceof Transfer) post({ type: "done", value: out.value }, out.transfer);
      else post({ type: "done", value: out });
    } catch (err) {
      const e = err as { message?: string; problem?: string; field?: string; name?: string };
      post({
        type: "error",
        message: e?.message ?? String(err),
        problem: err instanceof CancelledError ? "cancelled" : e?.problem,
        field: e?.field,
      });
    }
  };
}

/** Error reported by a task, carrying an input problem kind when the task rejected its input. */
export class TaskError extends Error {
  constructor(message: string, readonly problem?: string, readonly field?: string) {
    super(message);
    this.name = "TaskError";
  }
}

interface Pending<I, O> {
  input: I;
  cancel: Int32Array;
  transfer: Transferable[];
  onProgress?: (done: number, total: number) => void;
  resolve: (v: O) => void;
  reject: (e: Error) => void;
}

/** Options of {@link TaskPool.run}. */
export interface RunOptions {
  transfer?: Transferable[];
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Where tasks run: Web Workers ({@link WorkerPool}), or this isolate (workers/inline.ts, the
 * serverless mode, which has no Web Workers).
 */
export interface TaskPool<I, O> {
  /** Tasks that may run at once. */
  readonly size: number;
  /** Tasks running now. */
  readonly running: number;
  /** Tasks waiting. */
  readonly waiting: number;
  run(input: I, opts?: RunOptions): Promise<O>;
  /** Stops: see {@link WorkerPool.shutdown}. */
  shutdown(graceMs?: number): Promise<boolean>;
  close(): void;
}

/** Runs tasks of type I producing O on `size` module workers loaded from `url`. */
export class WorkerPool<I, O> implements TaskPool<I, O> {
  #idle: Worker[] = [];
  #queue: Pending<I, O>[] = [];
  #busy = new Map<Worker, Pending<I, O>>();
  #closed = false;

  constructor(readonly url: URL, readonly size: number) {
    for (let i = 0; i < size; i++) this.#idle.push(this.#spawn());
  }

  /** Tasks running now. */
  get running(): number {
    return this.#busy.size;
  }

  /** Tasks waiting for a worker. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Schedules a task; resolves with its value or rejects with a {@link TaskError} (problem
   * "cancelled" when `signal` aborted it: a waiting task never starts, a running one stops at
   * its next safe point).
   */
  run(input: I, opts: RunOptions = {}): Promise<O> {
    if (this.#closed) return Promise.reject(new Error("worker pool is closed"));
    return new Promise<O>((resolve, reject) => {
      const p: Pending<I, O> = {
        input,
        cancel: new Int32Array(new SharedArrayBuffer(4)),
        transfer: opts.transfer ?? [],
        onProgress: opts.onProgress,
        resolve,
        reject,
      };
      opts.signal?.addEventListener("abort", () => {
        Atomics.store(p.cancel, 0, 1);
        const at = this.#queue.indexOf(p);
        if (at >= 0) {
          this.#queue.splice(at, 1);
          reject(new TaskError("cancelled", "cancelled"));
        }
      }, { once: true });
      this.#queue.push(p);
      this.#dispatch();
    });
  }

  /**
   * Stops cleanly: waiting tasks are rejected, running ones are asked to stop at their next safe
   * point (between linear-algebra calls) and awaited for up to `graceMs`, then every worker is
   * terminated.
   *
   * @returns whether a task was still running when its worker was terminated: a native call
   *   cannot be interrupted, so its thread runs on, and the process must then leave with
   *   {@link exitNow} (a normal exit waits in OpenBLAS's exit handler for that thread)
   */
  async shutdown(graceMs = 10_000): Promise<boolean> {
    if (this.#closed) return false;
    for (const p of this.#queue) p.reject(new TaskError("service shutting down", "cancelled"));
    this.#queue = [];
    for (const p of this.#busy.values()) Atomics.store(p.cancel, 0, 1);
    const deadline = Date.now() + graceMs;
    while (this.#busy.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const abandoned = this.#busy.size > 0;
    this.close();
    return abandoned;
  }

  /** Terminates every worker at once; running and waiting tasks are rejected. */
  close(): void {
    this.#closed = true;
    for (const [w, p] of this.#busy) {
      w.terminate();
      p.reject(new Error("worker pool closed"));
    }
    for (const p of this.#queue) p.reject(new Error("worker pool closed"));
    for (const w of this.#idle) w.terminate();
    this.#busy.clear();
    this.#queue = [];
    this.#idle = [];
  }

  #spawn(): Worker {
    const w = new Worker(this.url, { type: "module" });
    w.onmessage = (e: MessageEvent<WorkerReply<O>>) => this.#onReply(w, e.data);
    // An uncaught error kills the task, not the pool: replace the worker and move on.
    w.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#retire(w, new TaskError(`worker crashed: ${e.message}`));
    };
    return w;
  }

  #onReply(w: Worker, msg: WorkerReply<O>) {
    const p = this.#busy.get(w);
    if (!p) return;
    if (msg.type === "progress") {
      p.onProgress?.(msg.done, msg.total);
      return;
    }
    this.#busy.delete(w);
    this.#idle.push(w);
    if (msg.type === "done") p.resolve(msg.value);
    else p.reject(new TaskError(msg.message, msg.problem, msg.field));
    this.#dispatch();
  }

  #retire(w: Worker, err: Error) {
    const p = this.#busy.get(w);
    this.#busy.delete(w);
    w.terminate();
    if (!this.#closed) this.#idle.push(this.#spawn());
    p?.reject(err);
    this.#dispatch();
  }

  #dispatch() {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const w = this.#idle.pop()!;
      const p = this.#queue.shift()!;
      this.#busy.set(w, p);
      w.postMessage({ input: p.input, cancel: p.cancel } satisfies TaskEnvelope<I>, p.transfer);
    }
  }
}
