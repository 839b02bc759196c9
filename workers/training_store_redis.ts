/**
 * Training jobs in Redis (scale-out mode), so that the API reads what workers on other machines
 * write. Per job: a hash (one JSON-encoded value per record field; status changes are Lua
 * compare-and-sets), a list of JSON events, the result as one string written once (SET NX) and
 * the uploaded dataset as one binary string.
 */
import { Buffer } from "node:buffer";
import type { Redis } from "ioredis";
import type { TrainingEvent, TrainingResult } from "../lib/train/types.ts";
import { newRecord } from "./training_store_kv.ts";
import {
  type NewTraining,
  type StoredEvent,
  type TrainingRecord,
  type TrainingStatus,
  type TrainingStore,
  UNFINISHED,
  type UpdateOutcome,
  uploadRelPath,
} from "./training_types.ts";

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

/** Training jobs in Redis under `<prefix>:training:<id>...`. */
export class RedisTrainingStore implements TrainingStore {
  constructor(readonly redis: Redis, readonly prefix: string) {}

  #key(id: string, part = ""): string {
    return `${this.prefix}:training:${id}${part ? ":" + part : ""}`;
  }

  /** The pub/sub channel on which cancellations are announced to workers. */
  get cancelChannel(): string {
    return `${this.prefix}:training-cancel`;
  }

  async create(rec: NewTraining): Promise<TrainingRecord> {
    const full = newRecord(rec);
    await this.redis.hset(this.#key(rec.id), encode(full));
    return full;
  }

  async get(id: string): Promise<TrainingRecord | null> {
    return decode(await this.redis.hgetall(this.#key(id)));
  }

  async update(
    id: string,
    change: Partial<TrainingRecord>,
    from: readonly TrainingStatus[] = UNFINISHED,
  ): Promise<UpdateOutcome> {
    const fields = encode({ ...change, updated_at: new Date().toISOString() });
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

  async appendEvents(id: string, events: TrainingEvent[]): Promise<number> {
    if (events.length === 0) return await this.redis.llen(this.#key(id, "events"));
    return await this.redis.rpush(this.#key(id, "events"), ...events.map((e) => JSON.stringify(e)));
  }

  async events(id: string, from: number): Promise<StoredEvent[]> {
    const raw = await this.redis.lrange(this.#key(id, "events"), from, -1);
    return raw.map((text, i) => ({ seq: from + i, event: JSON.parse(text) as TrainingEvent }));
  }

  async complete(id: string, result: TrainingResult): Promise<boolean> {
    const now = new Date().toISOString();
    const fields = encode({ status: "done", finished_at: now, updated_at: now });
    const out = await this.redis.eval(
      COMPLETE,
      2,
      this.#key(id),
      this.#key(id, "result"),
      JSON.stringify(result),
      ...Object.entries(fields).flat(),
    );
    return out === 1;
  }

  async result(id: string): Promise<TrainingResult | null> {
    const text = await this.redis.get(this.#key(id, "result"));
    return text === null ? null : JSON.parse(text) as TrainingResult;
  }

  async putUpload(id: string, bytes: Uint8Array): Promise<void> {
    await this.redis.set(this.#key(id, "upload"), Buffer.from(bytes));
  }

  async uploadPath(id: string, dataDir: string): Promise<string | null> {
    const path = `${dataDir}/${uploadRelPath(id)}`;
    try {
      await Deno.stat(path);
      return path; // fetched by an earlier attempt on this machine
    } catch {
      // Not here yet.
    }
    const bytes = await this.redis.getBuffer(this.#key(id, "upload"));
    if (!bytes) return null;
    await Deno.mkdir(`${dataDir}/uploads`, { recursive: true });
    await Deno.writeFile(path, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return path;
  }

  async deleteUpload(id: string, dataDir: string): Promise<void> {
    await this.redis.del(this.#key(id, "upload"));
    await Deno.remove(`${dataDir}/${uploadRelPath(id)}`).catch(() => {});
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

  close(): Promise<void> {
    // The connection belongs to the engine that created it.
    return Promise.resolve();
  }
}

function encode(rec: Partial<TrainingRecord>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec)) if (v !== undefined) out[k] = JSON.stringify(v);
  return out;
}

function decode(hash: Record<string, string>): TrainingRecord | null {
  if (!hash || !hash.status) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(hash)) out[k] = JSON.parse(v);
  return out as unknown as TrainingRecord;
}
