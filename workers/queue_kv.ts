/**
 * The embedded job queue on Deno KV's durable queue. Deno allows one `listenQueue` per KV handle,
 * so one listener routes each message to the lane of its kind; a lane runs at most `concurrency`
 * jobs at once and keeps the rest waiting in memory (the record's status, not the message, is
 * the truth: a message only wakes the executor, so duplicates are harmless).
 *
 * @module
 */
import type { JobHandler, JobKind, JobQueue } from "./types.ts";

interface Lane {
  concurrency: number;
  handler: JobHandler;
  waiting: string[];
  running: Map<string, Promise<void>>;
}

/** Job queue on a Deno KV handle. */
export class KvJobQueue implements JobQueue {
  #lanes = new Map<JobKind, Lane>();
  #listening = false;
  #closed = false;
  /** Enqueued here and not delivered yet (the embedded engine is one process). */
  #undelivered = 0;
  #channel: BroadcastChannel | null = null;

  /**
   * @param kv an open handle (closing it ends the listener)
   * @param channel name of a BroadcastChannel shared by the isolates of one process on the same
   *   KV file (`deno serve --parallel`): Deno KV's SQLite queue wakes only the listener of the
   *   handle a message was enqueued on, so an isolate that does not run jobs also announces
   *   each job there, and the one that runs them takes it from there
   */
  constructor(readonly kv: Deno.Kv, channel?: string) {
    if (channel) {
      this.#channel = new BroadcastChannel(channel);
      this.#channel.onmessage = (e: MessageEvent) => {
        if (this.#listening) this.#route(e.data);
      };
    }
  }

  async enqueue(kind: JobKind, id: string): Promise<void> {
    await this.kv.enqueue({ kind, id });
    if (this.#listening) this.#undelivered++;
    else this.#channel?.postMessage({ kind, id });
  }

  /**
   * Puts a queued job into its lane without a KV message (a job already waiting or running here
   * is left alone): the executing isolate's safety net for announcements that never arrived.
   *
   * @returns whether the job was put into a lane (false: already there, or no lane for it)
   */
  wake(kind: JobKind, id: string): boolean {
    return this.#listening && this.#lanes.has(kind) && this.#route({ kind, id });
  }

  consume(kind: JobKind, concurrency: number, handler: JobHandler): Promise<void> {
    if (this.#lanes.has(kind)) throw new Error(`jobs of kind "${kind}" are already consumed`);
    this.#lanes.set(kind, { concurrency, handler, waiting: [], running: new Map() });
    if (!this.#listening) {
      this.#listening = true;
      // Settles when the KV handle closes; nothing to await.
      this.kv.listenQueue((raw: unknown) => this.#deliver(raw)).catch(() => {});
    }
    return Promise.resolve();
  }

  remove(kind: JobKind, id: string): Promise<boolean> {
    const lane = this.#lanes.get(kind);
    const at = lane?.waiting.indexOf(id) ?? -1;
    if (lane && at >= 0) lane.waiting.splice(at, 1);
    // A job not running here never will: its record is no longer queued.
    return Promise.resolve(!lane?.running.has(id));
  }

  load(): Record<string, { running: number; waiting: number }> {
    return Object.fromEntries(
      [...this.#lanes].map(([k, l]) => [k, { running: l.running.size, waiting: l.waiting.length }]),
    );
  }

  depth(): Promise<number> {
    const waiting = [...this.#lanes.values()].reduce((n, l) => n + l.waiting.length, 0);
    return Promise.resolve(waiting + this.#undelivered);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#channel?.close();
    this.#channel = null;
    const running: Promise<void>[] = [];
    for (const lane of this.#lanes.values()) {
      lane.waiting = [];
      running.push(...lane.running.values());
    }
    await Promise.all(running);
  }

  #deliver(raw: unknown): void {
    this.#undelivered = Math.max(0, this.#undelivered - 1);
    this.#route(raw);
  }

  /** Puts a job into its lane; false when it has no lane or is already waiting or running. */
  #route(raw: unknown): boolean {
    const msg = raw as { kind?: JobKind; id?: string } | null;
    const lane = msg?.kind ? this.#lanes.get(msg.kind) : undefined;
    if (!lane || typeof msg?.id !== "string") {
      // Dropped, not retried: no lane for it will appear in this process.
      console.error("queue: message of unknown kind dropped:", JSON.stringify(raw));
      return false;
    }
    if (this.#closed || lane.running.has(msg.id) || lane.waiting.includes(msg.id)) return false;
    lane.waiting.push(msg.id);
    this.#pump(msg.kind!, lane);
    return true;
  }

  #pump(kind: JobKind, lane: Lane): void {
    while (!this.#closed && lane.running.size < lane.concurrency && lane.waiting.length > 0) {
      const id = lane.waiting.shift()!;
      const done = lane.handler(kind, id)
        .then(() => {}, (err) => console.error(`${kind} ${id}:`, err))
        .finally(() => {
          lane.running.delete(id);
          this.#pump(kind, lane);
        });
      lane.running.set(id, done);
    }
  }
}
