/// <reference lib="deno.worker" />
/**
 * Web Worker entry that runs one long job (a training or an experiment suite): it imports the
 * module it is told about, calls the named export with the job's input, forwards the job's
 * events, and turns the host's cancel request (a message, mirrored in a shared flag) into the
 * function's AbortSignal. One worker per job, so that a job can be cancelled or killed without
 * touching the others, and the host's event loop stays free for HTTP, heartbeats and locks.
 *
 * @module
 */
import type { JobEvent } from "./types.ts";

/** What the host posts to start the job. */
export interface JobWorkerStart {
  type: "run";
  /** URL of the module to load. */
  module: string;
  /** Name of its export: `(input, {dataDir, onEvent, signal}) => Promise<result>`. */
  exportName: string;
  input: unknown;
  dataDir: string;
  /** Int32Array over a SharedArrayBuffer; non-zero = cancel. */
  cancel: Int32Array;
}

/** What the worker posts back: events, then exactly one done or error. */
export type JobWorkerReply =
  | { type: "event"; event: JobEvent }
  | { type: "done"; result: unknown }
  | { type: "error"; name: string; message: string; problem?: string; field?: string };

type Entry = (
  input: unknown,
  opts: { dataDir: string; onEvent?: (e: JobEvent) => void; signal?: AbortSignal },
) => Promise<unknown>;

const post = (msg: JobWorkerReply) => self.postMessage(msg);
const controller = new AbortController();

self.onmessage = async (e: MessageEvent<JobWorkerStart | { type: "cancel" }>) => {
  const msg = e.data;
  if (msg.type === "cancel") {
    controller.abort(new DOMException("job cancelled", "AbortError"));
    return;
  }
  // The flag covers a function that yields only through timers: checked every 50 ms.
  const poll = setInterval(() => {
    if (Atomics.load(msg.cancel, 0) !== 0 && !controller.signal.aborted) {
      controller.abort(new DOMException("job cancelled", "AbortError"));
    }
  }, 50);
  try {
    const mod = await import(msg.module) as Record<string, unknown>;
    const entry = mod[msg.exportName];
    if (typeof entry !== "function") {
      throw new Error(`${msg.module} does not export ${msg.exportName}`);
    }
    const result = await (entry as Entry)(msg.input, {
      dataDir: msg.dataDir,
      onEvent: (event) => post({ type: "event", event }),
      signal: controller.signal,
    });
    post({ type: "done", result });
  } catch (err) {
    const x = err as { name?: string; message?: string; problem?: string; field?: string };
    post({
      type: "error",
      name: x?.name ?? "Error",
      message: x?.message ?? String(err),
      problem: typeof x?.problem === "string" ? x.problem : undefined,
      field: typeof x?.field === "string" ? x.field : undefined,
    });
  } finally {
    clearInterval(poll);
  }
};
