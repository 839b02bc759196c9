/**
 * Analysis records and results in Deno KV. A result can exceed KV's 64 KiB value limit, so it is
 * stored as JSON chunks; the record that points at them is written last, in the same atomic
 * commit when it fits, so readers never see a "done" record with a partial result.
 */
import type { AnalysisOutput } from "../lib/analysis.ts";
import type { EstimatorConfig } from "../lib/nhsic/config.ts";

/** Lifecycle of an analysis. */
export type AnalysisStatus = "queued" | "running" | "done" | "failed";

/** Metadata kept for every analysis. */
export interface AnalysisRecord {
  id: string;
  owner: string;
  status: AnalysisStatus;
  created_at: string;
  updated_at: string;
  m: number;
  layers: number;
  checkpoints: number;
  /** The estimator settings requested (the result adds what was derived, e.g. batches). */
  estimator: EstimatorConfig;
  progress: { done: number; total: number } | null;
  error: { message: string; problem?: string; field?: string } | null;
  /** Number of result chunks (0 until done). */
  chunks: number;
}

const CHUNK = 60_000;
const RECORD = "analyses";
const RESULT = "analysis_results";

/** CRUD over analysis records and their results. */
export class AnalysisStore {
  constructor(readonly kv: Deno.Kv) {}

  /** Creates a new record in state queued or running. */
  async create(
    rec: Omit<AnalysisRecord, "created_at" | "updated_at" | "progress" | "error" | "chunks">,
  ): Promise<AnalysisRecord> {
    const now = new Date().toISOString();
    const full: AnalysisRecord = {
      ...rec,
      created_at: now,
      updated_at: now,
      progress: null,
      error: null,
      chunks: 0,
    };
    await this.kv.set([RECORD, rec.id], full);
    return full;
  }

  /** The record of an analysis, or null. */
  async get(id: string): Promise<AnalysisRecord | null> {
    return (await this.kv.get<AnalysisRecord>([RECORD, id])).value;
  }

  /** Applies a change to a record unless it has already finished. */
  async update(id: string, change: Partial<AnalysisRecord>): Promise<AnalysisRecord | null> {
    const cur = await this.get(id);
    if (!cur || cur.status === "done" || cur.status === "failed") return cur;
    const next = { ...cur, ...change, updated_at: new Date().toISOString() };
    await this.kv.set([RECORD, id], next);
    return next;
  }

  /** Stores the result and marks the analysis done. */
  async complete(id: string, output: AnalysisOutput): Promise<AnalysisRecord> {
    const cur = await this.get(id);
    if (!cur) throw new Error(`analysis ${id} vanished`);
    const json = JSON.stringify(output);
    const parts: string[] = [];
    for (let i = 0; i < json.length; i += CHUNK) parts.push(json.slice(i, i + CHUNK));
    const rec: AnalysisRecord = {
      ...cur,
      status: "done",
      progress: cur.progress ? { ...cur.progress, done: cur.progress.total } : null,
      chunks: parts.length,
      updated_at: new Date().toISOString(),
    };
    // Chunks first (possibly over several commits), the record last: "done" implies whole.
    for (let i = 0; i < parts.length; i += 500) {
      const op = this.kv.atomic();
      parts.slice(i, i + 500).forEach((p, k) => op.set([RESULT, id, i + k], p));
      const res = await op.commit();
      if (!res.ok) throw new Error("storing the result failed");
    }
    await this.kv.set([RECORD, id], rec);
    return rec;
  }

  /** Marks an analysis failed with a reason. */
  async fail(id: string, error: AnalysisRecord["error"]): Promise<AnalysisRecord | null> {
    return await this.update(id, { status: "failed", error });
  }

  /** The stored result of a finished analysis, or null. */
  async result(rec: AnalysisRecord): Promise<AnalysisOutput | null> {
    if (rec.status !== "done" || rec.chunks === 0) return null;
    const parts: string[] = new Array(rec.chunks);
    for await (const e of this.kv.list<string>({ prefix: [RESULT, rec.id] })) {
      parts[e.key[2] as number] = e.value;
    }
    return JSON.parse(parts.join("")) as AnalysisOutput;
  }

  /** Records in a given state (used at start-up to recover interrupted work). */
  async *withStatus(status: AnalysisStatus): AsyncGenerator<AnalysisRecord> {
    for await (const e of this.kv.list<AnalysisRecord>({ prefix: [RECORD] })) {
      if (e.value.status === status) yield e.value;
    }
  }
}
