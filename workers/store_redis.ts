/**
 * Jobs in Redis (fleet mode), so that the API reads what workers on other machines write. Per
 * job: a hash (one JSON-encoded value per record field; status changes are Lua
 * compare-and-sets), a list of JSON events, the result as one string written once (SET NX) and
 * blobs as binary strings; per owner a sorted set (score: creation time) for listings.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import { InputError } from "../lib/errors.ts";
import { withChange } from "./store_kv.ts";
import {
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

/** Largest blob kept in Redis (a Redis string holds at most 512 MiB). */
export const MAX_REDIS_BLOB = 512 * 1024 * 1024 - 1024;

// KEYS[1] record hash. ARGV[1] ",<json status>,<json status>,", ARGV[2..] field/value pairs.
// Returns {applied (0|1), HGETALL} or 0 when there is no record.
const UPDATE = `
local s = redis.call('HGET', KEYS[1], 'status')
if not s then return 0 end
local applied = 0
if string.find(ARGV[1], ',' .. s .. ',', 1, true) then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
  applied = 1
end
return {applied, redis.call('HGETALL', KEYS[1])}
`;

// KEYS[1] record hash, KEYS[2] result. ARGV[1] result JSON, ARGV[2..] field/value pairs.
const COMPLETE = `
local s = redis.call('HGET', KEYS[1], 'status')
if s ~= '"queued"' and s ~= '"running"' then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX') then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
`;

/** Jobs in Redis under `<prefix>:job:<id>...`. */
export class RedisJobStore implements JobStore {
  readonly name = "redis";

  /**
   * @param redis a connection (owned by the caller)
   * @param prefix prefix of every key
   */
  constructor(readonly redis: Redis, readonly prefix: string) {}

  #key(id: string, part = ""): string {
    return `${this.prefix}:job:${id}${part ? ":" + part : ""}`;
  }

  #ownerKey(owner: string): string {
    return `${this.prefix}:owner:${owner}`;
  }

  /** The pub/sub channel on which cancellations are announced to workers. */
  get cancelChannel(): string {
    return `${this.prefix}:job-cancel`;
  }

  async create(rec: JobRecord): Promise<void> {
    await this.redis.multi()
      .hset(this.#key(rec.id), encode(rec))
      .zadd(this.#ownerKey(rec.owner), Date.parse(rec.created_at), rec.id)
      .exec();
  }

  async get(id: string): Promise<JobRecord | null> {
    return decode(await this.redis.hgetall(this.#key(id)));
  }

  async update(
    id: string,
    change: JobChange,
    from: readonly JobStatus[] = UNFINISHED,
  ): Promise<UpdateOutcome> {
    const fields = encode(withChange({ id, owner: "" }, change), ["id", "owner"]);
    const allowed = "," + from.map((s) => JSON.stringify(s)).join(",") + ",";
    const args = [allowed, ...Object.entries(fields).flat()];
    const out = await this.redis.eval(UPDATE, 1, this.#key(id), ...args) as
      | 0
      | [number, string[]];
    if (out === 0) return { record: null, applied: false };
    const flat = out[1];
    const hash: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
    return { record: decode(hash), applied: out[0] === 1 };
  }

  async list(q: ListQuery): Promise<ListPage> {
    const key = this.#ownerKey(q.owner);
    let [maxScore, afterId]: [number, string | null] = q.cursor
      ? decodeCursor(q.cursor)
      : [Infinity, null];
    if (q.createdBefore) maxScore = Math.min(maxScore, Date.parse(q.createdBefore) - 1);
    const minScore = q.createdAfter ? Date.parse(q.createdAfter) : -Infinity;
    const label = q.label?.toLowerCase();
    const items: JobRecord[] = [];
    const batch = Math.max(50, q.limit * 2);
    for (;;) {
      const flat = await this.redis.zrevrangebyscore(
        key,
        maxScore === Infinity ? "+inf" : maxScore,
        minScore === -Infinity ? "-inf" : minScore,
        "WITHSCORES",
        "LIMIT",
        0,
        batch,
      );
      if (flat.length === 0) return { items, cursor: null };
      let last: [number, string] | null = null;
      for (let i = 0; i < flat.length; i += 2) {
        const id = flat[i], score = Number(flat[i + 1]);
        // Equal scores come in descending id order: skip up to and including the cursor's id.
        if (afterId !== null && score === maxScore && id >= afterId) continue;
        last = [score, id];
        const rec = await this.get(id);
        if (!rec) continue;
        if (q.kind && rec.kind !== q.kind) continue;
        if (q.status && rec.status !== q.status) continue;
        if (label && !(rec.label ?? "").toLowerCase().includes(label)) continue;
        items.push(rec);
        if (items.length === q.limit) return { items, cursor: encodeCursor(score, id) };
      }
      if (flat.length < batch * 2 || last === null) return { items, cursor: null };
      [maxScore, afterId] = last;
    }
  }

  async appendEvents(id: string, events: JobEvent[]): Promise<number> {
    if (events.length === 0) return await this.redis.llen(this.#key(id, "events"));
    return await this.redis.rpush(this.#key(id, "events"), ...events.map((e) => JSON.stringify(e)));
  }

  async events(id: string, from: number): Promise<StoredEvent[]> {
    const raw = await this.redis.lrange(this.#key(id, "events"), from, -1);
    return raw.map((text, i) => ({ seq: from + i, event: JSON.parse(text) as JobEvent }));
  }

  async complete(id: string, resultJson: string, change: JobChange): Promise<boolean> {
    const fields = encode(withChange({ id, owner: "" }, { ...change, status: "done" }), [
      "id",
      "owner",
    ]);
    const out = await this.redis.eval(
      COMPLETE,
      2,
      this.#key(id),
      this.#key(id, "result"),
      resultJson,
      ...Object.entries(fields).flat(),
    );
    return out === 1;
  }

  async result(id: string): Promise<string | null> {
    return await this.redis.get(this.#key(id, "result"));
  }

  async putBlob(id: string, name: string, bytes: Uint8Array): Promise<void> {
    await this.redis.multi()
      .set(this.#key(id, `blob:${name}`), Buffer.from(bytes))
      .sadd(this.#key(id, "blobs"), name)
      .exec();
  }

  async getBlob(id: string, name: string): Promise<Uint8Array | null> {
    const buf = await this.redis.getBuffer(this.#key(id, `blob:${name}`));
    return buf ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : null;
  }

  async deleteBlobs(id: string): Promise<void> {
    await this.redis.del(...await this.#blobKeys(id), this.#key(id, "blobs"));
  }

  async #blobKeys(id: string): Promise<string[]> {
    const names = await this.redis.smembers(this.#key(id, "blobs"));
    return names.map((n) => this.#key(id, `blob:${n}`));
  }

  async remove(id: string): Promise<boolean> {
    const rec = await this.get(id);
    if (!rec) return false;
    const blobs = await this.#blobKeys(id);
    await this.redis.multi()
      .del(
        this.#key(id),
        this.#key(id, "events"),
        this.#key(id, "result"),
        this.#key(id, "blobs"),
        ...blobs,
      )
      .zrem(this.#ownerKey(rec.owner), id)
      .exec();
    return true;
  }

  async expireTransient(id: string, seconds: number): Promise<void> {
    await this.redis.expire(this.#key(id, "events"), seconds);
  }

  async *withStatus(status: JobStatus): AsyncGenerator<JobRecord> {
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", this.#key("*"), "COUNT", 500);
      cursor = next;
      for (const key of keys) {
        if (key.split(":").length !== this.prefix.split(":").length + 2) continue; // sub-keys
        const rec = decode(await this.redis.hgetall(key));
        if (rec?.status === status) yield rec;
      }
    } while (cursor !== "0");
  }

  changed(_id: string, ms: number, signal?: AbortSignal): Promise<void> {
    // Writers are other processes: readers poll.
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done);
    });
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  close(): Promise<void> {
    return Promise.resolve(); // the connection belongs to whoever created it
  }
}

function encode(rec: object, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (v !== undefined && !skip.includes(k)) out[k] = JSON.stringify(v);
  }
  return out;
}

function decode(hash: Record<string, string>): JobRecord | null {
  if (!hash || !hash.status || !hash.kind) return null;
  // Each field holds JSON (written by encode() from a JobRecord): the hash is one JSON object.
  return JSON.parse(
    `{${Object.entries(hash).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`,
  );
}

function encodeCursor(score: number, id: string): string {
  return btoa(`${score}:${id}`).replaceAll("=", "");
}

function decodeCursor(cursor: string): [number, string] {
  let text = "";
  try {
    text = atob(cursor);
  } catch {
    // reported below
  }
  const [score, id] = text.split(":");
  const s = Number(score);
  if (!Number.isFinite(s) || !id) {
    throw new InputError("invalid-request", "cursor is not one this service issued", "cursor");
  }
  return [s, id];
}
