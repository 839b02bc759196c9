/**
 * A fixed set of Web Workers that run CPU-heavy tasks off the event loop. Tasks wait in memory
 * for a free worker; durability is the job engine's concern (Deno KV queue), not the pool's.
 */

/** Messages a pool worker posts back: progress, then exactly one result or error. */
export type WorkerReply<T> =
  | { type: "progress"; done: number; total: number }
  | { type: "done"; value: T }
  | { type: "error"; message: string; problem?: string; field?: string };

/** Error reported by a task, carrying an input problem kind when the task rejected its input. */
export class TaskError extends Error {
  constructor(message: string, readonly problem?: string, readonly field?: string) {
    super(message);
    this.name = "TaskError";
  }
}

interface Pending<I, O> {
  input: I;
  transfer: Transferable[];
  onProgress?: (done: number, total: number) => void;
  resolve: (v: O) => void;
  reject: (e: Error) => void;
}

/** Runs tasks of type I producing O on `size` module workers loaded from `url`. */
export class WorkerPool<I, O> {
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

  /** Schedules a task; resolves with its value or rejects with a {@link TaskError}. */
  run(
    input: I,
    opts: { transfer?: Transferable[]; onProgress?: (done: number, total: number) => void } = {},
  ): Promise<O> {
    if (this.#closed) return Promise.reject(new Error("worker pool is closed"));
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({
        input,
        transfer: opts.transfer ?? [],
        onProgress: opts.onProgress,
        resolve,
        reject,
      });
      this.#dispatch();
    });
  }

  /** Terminates every worker; running and waiting tasks are rejected. */
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
      w.postMessage(p.input, p.transfer);
    }
  }
}
