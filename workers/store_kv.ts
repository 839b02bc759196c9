/**
 * Jobs in Deno KV (the embedded engine): records, an owner index for listings, event logs,
 * results as JSON chunks and blobs as files under the data dir (or as KV chunks when the store
 * has no directory: in-memory and serverless modes).
 *
 * Deno KV caps a value at 64 KiB and an atomic commit at 800 KiB, so anything that can be large
 * (a result, a big request) is split into chunks written over as many commits as needed, and the
 * record that points at them is written last: readers never see a "done" record with a partial
 * result. Every record change is a compare-and-set, so a DELETE racing a worker's progress write
 * cannot be lost.
 *
 * @module
 */
import { retryKv } from "./retry.ts";
import {
  FINISHED,
  type JobChange,
  type JobEvent,
  type JobRecord,
  type JobStatus,
  type JobStore,
  type ListPage,
  type ListQuery,
  type StoredEvent,
  UNFINISHED,
  type UpdateOutcome,
} from "./types.ts";

const RECORD = "job";
const REQUEST = "job_request";
const INDEX = "job_index";
const EVENTS = "job_events";
const EVENT_COUNT = "job_event_count";
const RESULT = "job_result";
const RESULT_META = "job_result_meta";
const BLOB = "job_blob";
/**
 * Characters per string chunk: V8 stores a string with any non-Latin-1 character at two bytes
 * per character, so 30k characters stay under the 64 KiB value limit whatever the text.
 */
const CHUNK = 30_000;
/** Bytes per blob chunk. */
const BLOB_CHUNK = 60_000;
/** Chunks per commit: 10 x 60 kB stays under the 800 KiB commit limit. */
const CHUNKS_PER_COMMIT = 10;
const EVENT_BATCH = 100;

/** What the index keeps per job, so that listings filter without reading records. */
interface IndexEntry {
  kind: JobRecord["kind"];
  status: JobStatus;
  label: string | null;
}

/** A record as stored: the request moves to chunks when the record would not fit one value. */
type StoredRecord = Omit<JobRecord, "request"> & {
  request: JobRecord["request"] | null;
  request_chunks?: number;
};

/** Jobs in a Deno KV database. */
export class KvJobStore implements JobStore {
  readonly name = "kv";
  #waiters = new Map<string, Set<() => void>>();

  /**
   * @param kv an open Deno KV handle (the caller closes it)
   * @param blobDir where blobs are kept as files; null keeps them in KV (no local files)
   */
  constructor(readonly kv: Deno.Kv, readonly blobDir: string | null) {}

  async create(rec: JobRecord): Promise<void> {
    const json = JSON.stringify(rec);
    let stored: StoredRecord = rec;
    if (json.length > CHUNK) { // the request is what grows (a model of many blocks)
      const parts = chunks(JSON.stringify(rec.request));
      await this.#writeChunks([REQUEST, rec.id], parts);
      stored = { ...rec, request: null, request_chunks: parts.length };
    }
    await retryKv(() =>
      this.kv.atomic()
        .set([RECORD, rec.id], stored)
        .set([INDEX, rec.owner, rec.created_at, rec.id], indexOf(rec))
        .commit()
    );
  }

  async get(id: string): Promise<JobRecord | null> {
    const stored = (await this.kv.get<StoredRecord>([RECORD, id])).value;
    return stored ? await this.#full(stored) : null;
  }

  async update(
    id: string,
    change: JobChange,
    from: readonly JobStatus[] = UNFINISHED,
  ): Promise<UpdateOutcome> {
    for (let i = 0; i < 50; i++) {
      const cur = await this.kv.get<StoredRecord>([RECORD, id]);
      if (!cur.value) return { record: null, applied: false };
      if (!from.includes(cur.value.status)) {
        return { record: await this.#full(cur.value), applied: false };
      }
      const next = withChange(cur.value, change);
      const op = this.kv.atomic().check(cur).set([RECORD, id], next);
      if (next.status !== cur.value.status) {
        op.set([INDEX, next.owner, next.created_at, id], indexOf(next));
      }
      if ((await op.commit()).ok) {
        this.#notify(id);
        return { record: await this.#full(next), applied: true };
      }
    }
    throw new Error(`job ${id}: too many concurrent updates`);
  }

  async list(q: ListQuery): Promise<ListPage> {
    const items: JobRecord[] = [];
    const prefix = [INDEX, q.owner];
    const iter = this.kv.list<IndexEntry>({
      prefix,
      ...(q.createdBefore ? { end: [...prefix, q.createdBefore] } : {}),
    }, { reverse: true, cursor: q.cursor, batchSize: 200 });
    const label = q.label?.toLowerCase();
    for await (const e of iter) {
      const created = e.key[2] as string;
      if (q.createdAfter && created < q.createdAfter) break;
      const v = e.value;
      if (q.kind && v.kind !== q.kind) continue;
      if (q.status && v.status !== q.status) continue;
      if (label && !(v.label ?? "").toLowerCase().includes(label)) continue;
      const rec = await this.get(e.key[3] as string);
      if (!rec) continue;
      items.push(rec);
      if (items.length === q.limit) return { items, cursor: iter.cursor };
    }
    return { items, cursor: null };
  }

  async appendEvents(id: string, events: JobEvent[]): Promise<number> {
    let count = (await this.kv.get<number>([EVENT_COUNT, id])).value ?? 0;
    for (let start = 0; start < events.length; start += EVENT_BATCH) {
      const part = events.slice(start, start + EVENT_BATCH);
      for (;;) {
        const cur = await this.kv.get<number>([EVENT_COUNT, id]);
        const n = cur.value ?? 0;
        const op = this.kv.atomic().check(cur).set([EVENT_COUNT, id], n + part.length);
        part.forEach((e, k) => op.set([EVENTS, id, n + k], e));
        if ((await op.commit()).ok) {
          count = n + part.length;
          break;
        }
      }
    }
    if (events.length > 0) this.#notify(id);
    return count;
  }

  async events(id: string, from: number): Promise<StoredEvent[]> {
    const out: StoredEvent[] = [];
    for await (
      const e of this.kv.list<JobEvent>({ start: [EVENTS, id, from], end: [EVENTS, id, Infinity] })
    ) {
      out.push({ seq: e.key[2] as number, event: e.value });
    }
    return out;
  }

  async complete(id: string, resultJson: string, change: JobChange): Promise<boolean> {
    // A fresh token per attempt: chunks of an attempt that lost the race are never read.
    const token = crypto.randomUUID();
    const parts = chunks(resultJson);
    await this.#writeChunks([RESULT, id, token], parts);
    for (let i = 0; i < 50; i++) {
      const cur = await this.kv.get<StoredRecord>([RECORD, id]);
      if (!cur.value || FINISHED.has(cur.value.status)) {
        await this.#deletePrefix([RESULT, id, token]);
        return false;
      }
      const next = withChange(cur.value, { ...change, status: "done" });
      const res = await this.kv.atomic().check(cur)
        .set([RECORD, id], next)
        .set([INDEX, next.owner, next.created_at, id], indexOf(next))
        .set([RESULT_META, id], { token, chunks: parts.length })
        .commit();
      if (res.ok) {
        this.#notify(id);
        return true;
      }
    }
    throw new Error(`job ${id}: too many concurrent updates`);
  }

  async result(id: string): Promise<string | null> {
    const meta = (await this.kv.get<{ token: string; chunks: number }>([RESULT_META, id])).value;
    if (!meta) return null;
    return (await this.#readChunks([RESULT, id, meta.token], meta.chunks)).join("");
  }

  async putBlob(id: string, name: string, bytes: Uint8Array): Promise<void> {
    if (this.blobDir) {
      await Deno.mkdir(`${this.blobDir}/${id}`, { recursive: true });
      // Written aside and renamed: a reader never sees half a file.
      const path = this.#blobPath(id, name);
      await Deno.writeFile(`${path}.part`, bytes);
      await Deno.rename(`${path}.part`, path);
      return;
    }
    const parts: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += BLOB_CHUNK) {
      parts.push(bytes.subarray(i, i + BLOB_CHUNK));
    }
    await this.#writeChunks([BLOB, id, name], parts);
    await this.kv.set([BLOB, id, name, "n"], parts.length);
  }

  async getBlob(id: string, name: string): Promise<Uint8Array | null> {
    if (this.blobDir) {
      try {
        return await Deno.readFile(this.#blobPath(id, name));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return null;
        throw e;
      }
    }
    const n = (await this.kv.get<number>([BLOB, id, name, "n"])).value;
    if (n === null) return null;
    const parts = await this.#readChunks<Uint8Array>([BLOB, id, name], n);
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) out.set(p, at), at += p.length;
    return out;
  }

  /** The local file of a blob, when blobs are files (the runners read inputs from disk). */
  blobFile(id: string, name: string): string | null {
    return this.blobDir ? this.#blobPath(id, name) : null;
  }

  async deleteBlobs(id: string): Promise<void> {
    if (this.blobDir) {
      await Deno.remove(`${this.blobDir}/${id}`, { recursive: true }).catch(() => {});
    } else {
      await this.#deletePrefix([BLOB, id]);
    }
  }

  async remove(id: string): Promise<boolean> {
    const cur = (await this.kv.get<StoredRecord>([RECORD, id])).value;
    if (!cur) return false;
    await this.kv.atomic()
      .delete([RECORD, id])
      .delete([INDEX, cur.owner, cur.created_at, id])
      .delete([RESULT_META, id])
      .delete([EVENT_COUNT, id])
      .commit();
    for (const prefix of [[REQUEST, id], [EVENTS, id], [RESULT, id]]) {
      await this.#deletePrefix(prefix);
    }
    await this.deleteBlobs(id);
    this.#notify(id);
    return true;
  }

  expireTransient(): Promise<void> {
    return Promise.resolve(); // KV keys are removed with the job (retention sweep, DELETE)
  }

  async *withStatus(status: JobStatus): AsyncGenerator<JobRecord> {
    for await (const e of this.kv.list<StoredRecord>({ prefix: [RECORD] })) {
      if (e.value.status === status) yield await this.#full(e.value);
    }
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

  async ping(): Promise<void> {
    await this.kv.get(["ping"]);
  }

  close(): Promise<void> {
    for (const set of this.#waiters.values()) for (const wake of [...set]) wake();
    return Promise.resolve();
  }

  #blobPath(id: string, name: string): string {
    return `${this.blobDir}/${id}/${name}`;
  }

  #notify(id: string) {
    const set = this.#waiters.get(id);
    if (set) { for (const wake of [...set]) wake(); }
  }

  async #full(stored: StoredRecord): Promise<JobRecord> {
    if (stored.request !== null || !stored.request_chunks) return stored as JobRecord;
    const text = (await this.#readChunks<string>([REQUEST, stored.id], stored.request_chunks))
      .join("");
    const { request_chunks: _, ...rest } = stored;
    return { ...rest, request: JSON.parse(text) } as JobRecord;
  }

  async #writeChunks(prefix: Deno.KvKey, parts: Array<string | Uint8Array>): Promise<void> {
    for (let i = 0; i < parts.length; i += CHUNKS_PER_COMMIT) {
      const op = this.kv.atomic();
      parts.slice(i, i + CHUNKS_PER_COMMIT).forEach((p, k) => op.set([...prefix, i + k], p));
      await retryKv(() => op.commit());
    }
  }

  async #readChunks<T>(prefix: Deno.KvKey, n: number): Promise<T[]> {
    const parts = new Array<T>(n);
    for await (const e of this.kv.list<T>({ start: [...prefix, 0], end: [...prefix, n] })) {
      parts[e.key[prefix.length] as number] = e.value;
    }
    return parts;
  }

  async #deletePrefix(prefix: Deno.KvKey): Promise<void> {
    let op = this.kv.atomic(), n = 0;
    for await (const e of this.kv.list({ prefix }, { batchSize: 500 })) {
      op.delete(e.key);
      if (++n % 500 === 0) {
        await op.commit();
        op = this.kv.atomic();
      }
    }
    if (n % 500 !== 0) await op.commit();
  }
}

function chunks(text: string): string[] {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK) parts.push(text.slice(i, i + CHUNK));
  return parts;
}

function indexOf(rec: { kind: JobRecord["kind"]; status: JobStatus; label: string | null }) {
  return { kind: rec.kind, status: rec.status, label: rec.label } satisfies IndexEntry;
}

/** The record with `change` applied (identity fields kept) and a fresh updated_at. */
export function withChange<R extends { id: string; owner: string }>(cur: R, change: JobChange): R {
  return { ...cur, ...change, id: cur.id, owner: cur.owner, updated_at: new Date().toISOString() };
}

/**
 * Opens the Deno KV file of the embedded engine, refusing files that would lose data silently:
 * an empty file (a failed copy would be reused as a new, empty store) and one that is not a
 * database.
 *
 * @param path the SQLite file
 * @returns the open handle
 * @throws {Error} with one line that names the file and says what to do
 */
export async function openKvFile(path: string): Promise<Deno.Kv> {
  const size = await Deno.stat(path).then((s) => s.size, () => null);
  if (size === 0) {
    throw new Error(
      `${path} is empty (0 bytes), not a job store: restore it from a backup, or delete it to ` +
        "start with no jobs",
    );
  }
  try {
    const kv = await Deno.openKv(path);
    await kv.get(["probe"]);
    return kv;
  } catch (e) {
    throw new Error(
      `${path} cannot be opened as the job store (${(e as Error).message}): restore it from a ` +
        "backup, or move it aside to start with no jobs",
    );
  }
}
