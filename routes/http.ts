/**
 * What the route modules share: documented problem responses, the id parameter, the fields and
 * links every job presents, the owner of a request, and the server-sent event stream of a job.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import type { JobKind, JobRecord, JobService } from "../workers/mod.ts";
import { FINISHED } from "../workers/mod.ts";
import type { AppEnv } from "./env.ts";
import { ValidationError } from "./problem.ts";
import { ProblemSchema } from "./schemas.ts";

/** Where each kind lives in the API. */
export const KIND_PATHS: Record<JobKind, string> = {
  analysis: "/v1/analyses",
  training: "/v1/trainings",
  experiment: "/v1/experiments",
};

const retryAfterHeader = {
  "Retry-After": {
    description: "Seconds to wait before trying again.",
    schema: { type: "integer" as const },
  },
};

/** A documented problem response (with Retry-After where waiting helps). */
export function problemResponse(description: string, opts: { retryAfter?: boolean } = {}) {
  return {
    content: { "application/problem+json": { schema: ProblemSchema } },
    description,
    ...(opts.retryAfter ? { headers: retryAfterHeader } : {}),
  };
}

/** Problems any /v1 operation may answer with: a missing key, too many requests. */
export function commonProblems(what = "Missing or unknown API key") {
  return {
    401: problemResponse(what),
    429: problemResponse("Too many requests from this client (INFOPLANE_RATE_PER_MIN)", {
      retryAfter: true,
    }),
  };
}

/** Problems of operations that create a job: limits, a full queue or disk. */
export function creationProblems() {
  return {
    ...commonProblems(),
    413: problemResponse("Body or upload over the configured limits"),
    415: problemResponse("Unsupported content type"),
    503: problemResponse("The queue is full or the service is shutting down", {
      retryAfter: true,
    }),
    507: problemResponse("The disk is full"),
  };
}

/** Headers of a 202: where the job is, and when to look. */
export const ACCEPTED_HEADERS = {
  Location: {
    description: "Where to follow the job (GET it until its status is done or failed).",
    schema: { type: "string" as const },
  },
  ...retryAfterHeader,
};

/** The header that resumes an event stream after the last event seen. */
export const LastEventIdSchema = z.object({
  "last-event-id": z.string().optional().openapi({
    param: { name: "last-event-id", in: "header" },
    description: "Last-Event-ID: resume after this event id (EventSource sends it on reconnect).",
  }),
});

/**
 * A documented server-sent event stream. The body is text; `contentSchema` (an annotation in
 * JSON Schema 2020-12) names the schemas of the JSON each event's `data` holds.
 *
 * @param events what the events carry, in words
 * @param data the component schemas of the events' data (besides the final `EndEvent`)
 */
export function eventStreamResponse(events: string, data: string[]) {
  return {
    content: {
      "text/event-stream": {
        schema: {
          type: "string" as const,
          description: `Server-sent events. ${events} Every data field is JSON; the final ` +
            "`end` event carries an `EndEvent`. Comment lines keep idle connections open.",
          contentSchema: {
            description: "The JSON of one event's data field.",
            oneOf: [...data, "EndEvent"].map((name) => ({ $ref: `#/components/schemas/${name}` })),
          },
        },
      },
    },
    description: "The event stream (until the job ends)",
  };
}

/** The path parameter `id` of a job. */
export const IdParamSchema = z.object({
  id: z.string().min(1).openapi({
    param: { name: "id", in: "path" },
    description: "The job's id (a UUID).",
  }),
});

/** Who owns what this request creates or reads. */
export function ownerOf(c: Context<AppEnv>): string {
  return c.get("owner");
}

/** The path of a job. */
export function jobPath(rec: { kind: JobKind; id: string }): string {
  return `${KIND_PATHS[rec.kind]}/${rec.id}`;
}

/** The fields every job presents, whatever its kind. */
export function jobFields(rec: JobRecord) {
  return {
    id: rec.id,
    kind: rec.kind,
    label: rec.label,
    status: rec.status,
    created_at: rec.created_at,
    updated_at: rec.updated_at,
    started_at: rec.started_at,
    finished_at: rec.finished_at,
    attempts: rec.attempts,
    max_attempts: rec.max_attempts,
    worker: rec.worker,
    heartbeat_at: rec.heartbeat_at,
    heartbeat_age_s: rec.status === "running" && rec.heartbeat_at
      ? Math.max(0, (Date.now() - Date.parse(rec.heartbeat_at)) / 1000)
      : null,
    error: rec.error,
  };
}

/** Headers of a 202: where to look, and when (a hint that grows with the job's size). */
export function accepted(c: Context, rec: JobRecord, retryAfterS = 1): void {
  c.header("Location", jobPath(rec));
  c.header("Retry-After", String(retryAfterS));
}

/**
 * A job's event log as server-sent events: logged events are replayed from Last-Event-ID on,
 * then new ones stream until the job ends with a final `end` event carrying its status and
 * error. A `progress` event (no id) carries the record's progress whenever it changed;
 * comment lines keep idle connections open.
 *
 * @param c the request
 * @param jobs the job layer
 * @param rec the (owned) job
 * @param keepAliveMs interval of keep-alive comments
 */
export function streamJobEvents(
  c: Context<AppEnv>,
  jobs: JobService,
  rec: JobRecord,
  keepAliveMs: number,
): Response {
  const last = Number(c.req.header("last-event-id"));
  let next = Number.isInteger(last) && last >= 0 ? last + 1 : 0;
  const pollMs = jobs.mode === "redis" ? 300 : 1_000;
  return streamSSE(c, async (stream) => {
    const stop = new AbortController();
    stream.onAbort(() => stop.abort());
    const onClose = () => stop.abort();
    jobs.closing.addEventListener("abort", onClose);
    let lastWrite = Date.now();
    let lastProgress = "";
    const flush = async () => {
      for (const { seq, event } of await jobs.events(rec.id, next)) {
        await stream.writeSSE({ event: event.type, data: JSON.stringify(event), id: String(seq) });
        next = seq + 1;
        lastWrite = Date.now();
      }
    };
    try {
      // A comment first: headers and the first bytes reach the client at once.
      await stream.write(`: infoplane ${rec.kind} events\n\n`);
      while (!stop.signal.aborted && !jobs.closing.aborted) {
        await flush();
        const now = await jobs.store.get(rec.id);
        if (!now || FINISHED.has(now.status)) {
          await flush(); // events written just before the final status
          await stream.writeSSE({
            event: "end",
            data: JSON.stringify({ status: now?.status ?? "gone", error: now?.error ?? null }),
          });
          break;
        }
        const progress = JSON.stringify(now.progress);
        if (now.progress && progress !== lastProgress) {
          await stream.writeSSE({ event: "progress", data: progress });
          lastProgress = progress;
        }
        if (Date.now() - lastWrite >= keepAliveMs) {
          await stream.write(": keep-alive\n\n");
          lastWrite = Date.now();
        }
        const wait = Math.min(pollMs, Math.max(10, keepAliveMs - (Date.now() - lastWrite)));
        await jobs.store.changed(rec.id, wait, stop.signal);
      }
    } catch {
      // The client went away mid-write: nothing to tell anyone.
    } finally {
      jobs.closing.removeEventListener("abort", onClose);
    }
  });
}

/** The validation errors of a zod failure, fields prefixed with `field`. */
export function validationErrors(
  error: z.ZodError,
  prefix?: string,
): Array<{ field: string; message: string }> {
  return error.issues.map((i) => ({
    field: [
      ...(prefix ? [prefix] : []),
      ...i.path,
      ...(i.code === "unrecognized_keys" ? i.keys.slice(0, 1) : []),
    ].map(String).join(".") || "(body)",
    message: i.message,
  }));
}

/**
 * Validates a value against a schema.
 *
 * @param value the value
 * @param schema its schema
 * @param field the request field it came from (prefixes error fields)
 * @throws {ValidationError} naming the field at fault
 */
export function parseField<T extends z.ZodType>(
  value: unknown,
  schema: T,
  field: string,
): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ValidationError(validationErrors(parsed.error, field));
  return parsed.data;
}

/**
 * Parses a form field holding JSON text and validates it.
 *
 * @throws {ValidationError} when the text is not JSON or does not fit the schema
 */
export function parseJsonField<T extends z.ZodType>(
  text: string,
  schema: T,
  field: string,
): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ValidationError([{ field, message: "not valid JSON" }]);
  }
  return parseField(raw, schema, field);
}

/**
 * The whole body of a request, read chunk by chunk into one buffer (sized from Content-Length
 * when the client gave it). `Request.arrayBuffer()` reads a large body in one native call that
 * holds the event loop while it copies; here every chunk is a short step, so health checks and
 * other requests are answered in between (docs/jobs.md has the measurement).
 *
 * @param req the request (its body is consumed)
 * @returns the body's bytes
 */
export async function readBody(req: Request): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const declared = Number(req.headers.get("content-length"));
  const known = Number.isSafeInteger(declared) && declared >= 0 ? declared : null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  let out = known !== null ? new Uint8Array(known) : null;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out && size + value.byteLength <= out.length) {
      out.set(value, size);
    } else {
      // More than declared (or no length): keep the chunks and join them once at the end.
      if (out) chunks.push(out.subarray(0, size));
      out = null;
      chunks.push(value);
    }
    size += value.byteLength;
  }
  if (out) return out.subarray(0, size);
  const joined = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    joined.set(c, at);
    at += c.byteLength;
  }
  return joined;
}
