/**
 * Training jobs in Deno KV (the embedded engine): records, an event log, results as JSON chunks
 * (KV values stop at 64 KiB) and uploaded datasets as files under the data dir. Every record
 * change is a compare-and-set, so a DELETE racing a worker's progress write cannot be lost.
 */
import type { TrainingEvent, TrainingResult } from "../lib/train/types.ts";
import {
  FINISHED,
  type NewTraining,
  type StoredEvent,
  type TrainingRecord,
  type TrainingStatus,
  type TrainingStore,
  UNFINISHED,
  type UpdateOutcome,
  uploadRelPath,
} from "./training_types.ts";

const RECORD = "trainings";
const EVENTS = "training_events";
const EVENT_COUNT = "training_event_count";
const RESULT = "training_results";
const RESULT_META = "training_result_meta";
const CHUNK = 60_000;
const BATCH = 200;

/** Training jobs in a Deno KV database; uploads under `<dataDir>/uploads`. */
export class KvTrainingStore implements TrainingStore {
  #waiters = new Map<string, Set<() => void>>();

  constructor(readonly kv: Deno.Kv, readonly dataDir: string) {}

  async create(rec: NewTraining): Promise<TrainingRecord> {
    const full = newRecord(rec);
    await this.kv.set([RECORD, rec.id], full);
    return full;
  }

  async get(id: string): Promise<TrainingRecord | null> {
    return (await this.kv.get<TrainingRecord>([RECORD, id])).value;
  }

  async update(
    id: string,
    change: Partial<TrainingRecord>,
    from: readonly TrainingStatus[] = UNFINISHED,
  ): Promise<UpdateOutcome> {
    for (let i = 0; i < 50; i++) {
      const cur = await this.kv.get<TrainingRecord>([RECORD, id]);
      if (!cur.value) return { record: null, applied: false };
      if (!from.includes(cur.value.status)) return { record: cur.value, applied: false };
      const next = withChange(cur.value, change);
      const res = await this.kv.atomic().check(cur).set([RECORD, id], next).commit();
      if (res.ok) {
        this.#notify(id);
        return { record: next, applied: true };
      }
    }
    throw new Error(`training ${id}: too many concurrent updates`);
  }

  async appendEvents(id: string, events: TrainingEvent[]): Promise<number> {
    let count = 0;
    for (let start = 0; start < events.length; start += BATCH) {
      const part = events.slice(start, start + BATCH);
      for (let i = 0;; i++) {
        const cur = await this.kv.get<number>([EVENT_COUNT, id]);
        const n = cur.value ?? 0;
        const op = this.kv.atomic().check(cur).set([EVENT_COUNT, id], n + part.length);
        part.forEach((e, k) => op.set([EVENTS, id, n + k], e));
        if ((await op.commit()).ok) {
          count = n + part.length;
          break;
        }
        if (i > 50) throw new Error(`training ${id}: too many concurrent event writes`);
      }
    }
    this.#notify(id);
    return count;
  }

  async events(id: string, from: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    const iter = this.kv.list<TrainingEvent>({
      start: [EVENTS, id, from],
      end: [EVENTS, id, Infinity],
    });
    for await (const e of iter) out.push({ seq: e.key[2] as number, event: e.value });
    return out;
  }

  async complete(id: string, result: TrainingResult): Promise<boolean> {
    const first = await this.get(id);
    if (!first || FINISHED.has(first.status)) return false;
    const json = JSON.stringify(result);
    const parts: string[] = [];
    for (let i = 0; i < json.length; i += CHUNK) parts.push(json.slice(i, i + CHUNK));
    // Chunks under a key of their own first (possibly several commits), then record + pointer in
    // one compare-and-set: a reader never sees "done" with a partial result, and a writer that
    // loses a race only removes its own chunks.
    const token = crypto.randomUUID();
    for (let i = 0; i < parts.length; i += 10) {
      const op = this.kv.atomic();
      parts.slice(i, i + 10).forEach((p, k) => op.set([RESULT, id, token, i + k], p));
      if (!(await op.commit()).ok) throw new Error("storing the training result failed");
    }
    for (let i = 0; i < 50; i++) {
      const cur = await this.kv.get<TrainingRecord>([RECORD, id]);
      if (!cur.value || FINISHED.has(cur.value.status)) {
        await this.#deleteChunks(id, token);
        return false;
      }
      const next = withChange(cur.value, {
        status: "done",
        finished_at: new Date().toISOString(),
      });
      const res = await this.kv.atomic().check(cur).set([RECORD, id], next)
        .set([RESULT_META, id], { token, chunks: parts.length }).commit();
      if (res.ok) {
        this.#notify(id);
        return true;
      }
    }
    throw new Error(`training ${id}: too many concurrent updates`);
  }

  async result(id: string): Promise<TrainingResult | null> {
    const meta = (await this.kv.get<{ token: string; chunks: number }>([RESULT_META, id])).value;
    if (!meta) return null;
    const parts: string[] = new Array(meta.chunks);
    for await (const e of this.kv.list<string>({ prefix: [RESULT, id, meta.token] })) {
      parts[e.key[3] as number] = e.value;
    }
    return JSON.parse(parts.join("")) as TrainingResult;
  }

  async putUpload(id: string, bytes: Uint8Array): Promise<void> {
    await Deno.mkdir(`${this.dataDir}/uploads`, { recursive: true });
    await Deno.writeFile(`${this.dataDir}/${uploadRelPath(id)}`, bytes);
  }

  async uploadPath(id: string, dataDir: string): Promise<string | null> {
    const path = `${dataDir}/${uploadRelPath(id)}`;
    try {
      await Deno.stat(path);
      return path;
    } catch {
      return null;
    }
  }

  async deleteUpload(id: string, dataDir: string): Promise<void> {
    await Deno.remove(`${dataDir}/${uploadRelPath(id)}`).catch(() => {});
  }

  changed(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(id);
      if (!set) this.#waiters.set(id, set = new Set());
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        set!.delete(done);
        if (set!.size === 0 && this.#waiters.get(id) === set) this.#waiters.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done);
      set.add(done);
    });
  }

  /** Records in a given state (start-up recovery). */
  async *withStatus(status: TrainingStatus): AsyncGenerator<TrainingRecord> {
    for await (const e of this.kv.list<TrainingRecord>({ prefix: [RECORD] })) {
      if (e.value.status === status) yield e.value;
    }
  }

  close(): Promise<void> {
    for (const set of this.#waiters.values()) for (const wake of [...set]) wake();
    return Promise.resolve();
  }

  #notify(id: string) {
    const set = this.#waiters.get(id);
    if (set) { for (const wake of [...set]) wake(); }
  }

  async #deleteChunks(id: string, token: string) {
    for await (const e of this.kv.list({ prefix: [RESULT, id, token] })) {
      await this.kv.delete(e.key);
    }
  }
}

/** A new queued record. */
export function newRecord(rec: NewTraining): TrainingRecord {
  const now = new Date().toISOString();
  return {
    ...rec,
    status: "queued",
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
    attempts: 0,
    worker: null,
    heartbeat_at: null,
    progress: null,
    error: null,
  };
}

function withChange(cur: TrainingRecord, change: Partial<TrainingRecord>): TrainingRecord {
  return { ...cur, ...change, id: cur.id, owner: cur.owner, updated_at: new Date().toISOString() };
}
