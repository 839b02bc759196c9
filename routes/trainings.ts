/**
 * /v1/trainings: train a model with several methods, track nHSIC per layer while it learns, and
 * follow, cancel and download the result. The job engine (embedded or Redis) is behind
 * `deps.trainings`; routes only validate, scope by owner and present.
 */
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import { stringify } from "csv-stringify/sync";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { datasetFromNpz } from "../lib/data/upload.ts";
import { InputError } from "../lib/errors.ts";
import type { TrainingJob, TrainingResult } from "../lib/train/types.ts";
import { FINISHED, type TrainingRecord } from "../workers/training_types.ts";
import type { AppEnv, Deps } from "./env.ts";
import { problem } from "./problem.ts";
import {
  IdParamSchema,
  ProblemSchema,
  TrainingMultipartSchema,
  TrainingSchema,
} from "./schemas.ts";
import { resolveTrainingRequest, TrainingRequestSchema } from "./training_request.ts";
import { isExperimentJob } from "../lib/experiments/job.ts";

const problemResponse = (description: string) => ({
  content: { "application/problem+json": { schema: ProblemSchema } },
  description,
});

const createTraining = createRoute({
  method: "post",
  path: "/v1/trainings",
  summary: "Start a training job",
  description: "Queues a job that trains the model with each method and tracks nHSIC(X;T_l) and " +
    "nHSIC(Y;T_l) of every layer during training. Answers 202 with a Location to poll; follow " +
    "progress at `/v1/trainings/{id}/events` (server-sent events). Send JSON, or multipart " +
    "with a `request` field (JSON text) and a `dataset` .npz file for your own data.",
  request: {
    body: {
      content: {
        "application/json": { schema: TrainingRequestSchema },
        "multipart/form-data": { schema: TrainingMultipartSchema },
      },
    },
  },
  responses: {
    202: { content: { "application/json": { schema: TrainingSchema } }, description: "Queued" },
    400: problemResponse("Malformed body or dataset file"),
    401: problemResponse("Missing or unknown API key"),
    413: problemResponse("Body or dataset over the configured limits"),
    415: problemResponse("Unsupported content type"),
    422: problemResponse("Invalid training request or dataset (the field is named)"),
  },
});

const idParam = { params: IdParamSchema };

const getTraining = createRoute({
  method: "get",
  path: "/v1/trainings/{id}",
  summary: "Status, progress and result of a training job",
  description: "Append `.csv` to the id for one row per method, checkpoint and layer (method, " +
    "step, epoch, layer, nhsic_x, nhsic_y, nhsic_x_norm, nhsic_y_norm, test_accuracy); the " +
    "table exists once the job is done (409 before).",
  request: idParam,
  responses: {
    200: {
      content: {
        "application/json": { schema: TrainingSchema },
        "text/csv": { schema: { type: "string" } },
      },
      description: "The job (JSON), or its table (CSV, for ids ending in .csv)",
    },
    401: problemResponse("Missing or unknown API key"),
    404: problemResponse("No such training (for this key)"),
    409: problemResponse("CSV asked for a job that is not done"),
  },
});

const trainingEvents = createRoute({
  method: "get",
  path: "/v1/trainings/{id}/events",
  summary: "Progress of a training job as server-sent events",
  description: "Replays the job's logged events, then streams new ones until the job ends. " +
    "Event names are the event types (started, step, checkpoint, method_done, log), data is " +
    "the event as JSON, ids are positions in the log (send Last-Event-ID to resume). A final " +
    '`end` event carries `{"status", "error"}`. Step events are thinned out (a few per second) ' +
    "and comment lines keep idle connections open.",
  request: idParam,
  responses: {
    200: {
      content: { "text/event-stream": { schema: { type: "string" } } },
      description: "The event stream",
    },
    401: problemResponse("Missing or unknown API key"),
    404: problemResponse("No such training (for this key)"),
  },
});

const cancelTraining = createRoute({
  method: "delete",
  path: "/v1/trainings/{id}",
  summary: "Cancel a training job",
  description: "A queued job never starts; a running one stops at its next step. The record " +
    "stays, with status cancelled.",
  request: idParam,
  responses: {
    200: { content: { "application/json": { schema: TrainingSchema } }, description: "Cancelled" },
    401: problemResponse("Missing or unknown API key"),
    404: problemResponse("No such training (for this key)"),
    409: problemResponse("The job has already finished"),
  },
});

/** Registers the training routes. */
export function trainingRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const engine = deps.trainings;

  app.openapi(createTraining, async (c) => {
    const isJson = (c.req.header("content-type") ?? "").includes("json");
    let job: TrainingJob;
    let upload: Uint8Array | undefined;
    if (isJson) {
      const raw = await c.req.json();
      const dataset = (raw as { dataset?: { name?: unknown } }).dataset;
      if (dataset?.name === "upload") {
        return typedProblem(
          c,
          422,
          "validation",
          'dataset.name: "upload" datasets are sent as multipart/form-data with a `request` ' +
            "field (this JSON) and a `dataset` file (.npz)",
          { field: "dataset.name" },
        );
      }
      rejectServerPaths(raw);
      job = resolveTrainingRequest(raw);
    } else {
      ({ job, upload } = await fromForm(
        c.req.valid("form") as Record<string, File | string>,
        deps.settings.maxDumpBytes,
      ));
    }
    const rec = await engine.submit(job, c.get("owner"), upload);
    c.header("Location", `/v1/trainings/${rec.id}`);
    return c.json(present(rec, null), 202);
  });

  app.openapi(getTraining, async (c) => {
    const raw = c.req.valid("param").id;
    const csv = raw.endsWith(".csv");
    const id = csv ? raw.slice(0, -4) : raw;
    const rec = await owned(c, id);
    if (!rec) return notFound(c, id);
    if (csv) {
      if (isExperimentJob(rec.job)) {
        return problem(
          c,
          404,
          "not-found",
          `"${id}" is an experiment suite: see /v1/experiments/${id}`,
          {
            field: "id",
          },
        );
      }
      const result = rec.status === "done" ? await engine.store.result(id) : null;
      if (!result) {
        return problem(c, 409, "conflict", `training "${id}" is ${rec.status}; no table yet`, {
          field: "id",
        });
      }
      return c.body(trainingCsv(result), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `inline; filename="training-${id}.csv"`,
      });
    }
    const result = rec.status === "done" ? await engine.store.result(id) : null;
    return c.json(present(rec, result), 200);
  });

  app.openapi(trainingEvents, async (c) => {
    const id = c.req.valid("param").id;
    const rec = await owned(c, id);
    if (!rec) return notFound(c, id);
    const last = Number(c.req.header("last-event-id"));
    let next = Number.isInteger(last) && last >= 0 ? last + 1 : 0;
    const pollMs = engine.mode === "redis" ? 300 : 1_000;
    return streamSSE(c, async (stream) => {
      const stop = new AbortController();
      stream.onAbort(() => stop.abort());
      const onClose = () => stop.abort();
      engine.closing.addEventListener("abort", onClose);
      let lastWrite = Date.now();
      const flush = async () => {
        for (const { seq, event } of await engine.store.events(id, next)) {
          await stream.writeSSE({
            event: event.type,
            data: JSON.stringify(event),
            id: String(seq),
          });
          next = seq + 1;
          lastWrite = Date.now();
        }
      };
      try {
        // A comment first: headers and the first bytes reach the client at once.
        await stream.write(": infoplane training events\n\n");
        while (!stop.signal.aborted && !engine.closing.aborted) {
          await flush();
          const now = await engine.store.get(id);
          if (!now || FINISHED.has(now.status)) {
            await flush(); // events written just before the final status
            await stream.writeSSE({
              event: "end",
              data: JSON.stringify({ status: now?.status ?? "gone", error: now?.error ?? null }),
            });
            break;
          }
          if (Date.now() - lastWrite >= deps.sseKeepAliveMs) {
            await stream.write(": keep-alive\n\n");
            lastWrite = Date.now();
          }
          const wait = Math.min(
            pollMs,
            Math.max(10, deps.sseKeepAliveMs - (Date.now() - lastWrite)),
          );
          await engine.store.changed(id, wait, stop.signal);
        }
      } catch {
        // The client went away mid-write: nothing to tell anyone.
      } finally {
        engine.closing.removeEventListener("abort", onClose);
      }
    });
  });

  app.openapi(cancelTraining, async (c) => {
    const id = c.req.valid("param").id;
    const rec = await owned(c, id);
    if (!rec) return notFound(c, id) as never;
    const { record, applied } = await engine.cancel(id);
    if (!applied || !record) {
      return typedProblem(
        c,
        409,
        "conflict",
        `training "${id}" has already finished (${record?.status ?? "gone"})`,
        { field: "id" },
      );
    }
    return c.json(present(record, null), 200);
  });

  async function owned(c: Context<AppEnv>, id: string): Promise<TrainingRecord | null> {
    const rec = await engine.store.get(id);
    return rec && rec.owner === c.get("owner") ? rec : null;
  }
}

/** A problem response where the route's typed responses are JSON only (problems are documented). */
function typedProblem(...args: Parameters<typeof problem>): never {
  return problem(...args) as never;
}

function notFound(c: Context, id: string): Response {
  return problem(c, 404, "not-found", `no training with id "${id}"`, { field: "id" });
}

/** Paths on the server's disk are not for API callers (uploads go through multipart). */
function rejectServerPaths(raw: unknown) {
  const dataset = (raw as { dataset?: Record<string, unknown> })?.dataset;
  for (const key of ["dir", "path"]) {
    if (dataset && typeof dataset === "object" && key in dataset) {
      throw new InputError(
        "missing-field",
        `dataset.${key}: server paths are not accepted over the API; upload the data instead`,
        `dataset.${key}`,
      );
    }
  }
}

/** The API shape of a job: record fields, then the result once done. */
function present(
  rec: TrainingRecord,
  result: TrainingResult | null,
): z.infer<typeof TrainingSchema> {
  const job = rec.job.dataset.name === "upload"
    ? { ...rec.job, dataset: { ...rec.job.dataset, path: "(uploaded)" } }
    : rec.job;
  return {
    id: rec.id,
    status: rec.status,
    created_at: rec.created_at,
    updated_at: rec.updated_at,
    started_at: rec.started_at,
    finished_at: rec.finished_at,
    attempts: rec.attempts,
    max_attempts: rec.max_attempts,
    worker: rec.worker,
    heartbeat_at: rec.heartbeat_at,
    progress: rec.progress,
    error: rec.error,
    job: job as unknown as Record<string, unknown>,
    ...(result ? { result: result as unknown as Record<string, unknown> } : {}),
    links: {
      self: `/v1/trainings/${rec.id}`,
      events: `/v1/trainings/${rec.id}/events`,
      csv: `/v1/trainings/${rec.id}.csv`,
    },
  };
}

/** One row per method x checkpoint x layer; epoch and accuracy from the curve at that step. */
export function trainingCsv(result: TrainingResult): string {
  const rows: unknown[][] = [[
    "method",
    "step",
    "epoch",
    "layer",
    "nhsic_x",
    "nhsic_y",
    "nhsic_x_norm",
    "nhsic_y_norm",
    "test_accuracy",
  ]];
  for (const m of result.methods) {
    const byStep = new Map(m.curves.map((p) => [p.step, p]));
    for (const cp of m.analysis.checkpoints) {
      const point = byStep.get(cp.step);
      for (const l of cp.layers) {
        rows.push([
          m.method.label,
          cp.step,
          point?.epoch ?? "",
          l.name,
          l.nhsic_x,
          l.nhsic_y,
          l.nhsic_x_norm,
          l.nhsic_y_norm,
          point?.test_accuracy ?? "",
        ]);
      }
    }
  }
  return stringify(rows);
}

async function fromForm(
  form: Record<string, File | string>,
  maxBytes: number,
): Promise<{ job: TrainingJob; upload: Uint8Array }> {
  for (const key of Object.keys(form)) {
    if (key !== "request" && key !== "dataset") {
      throw new InputError(
        "missing-field",
        `unknown field "${key}": send \`request\` (JSON text) and \`dataset\` (.npz file)`,
        key,
      );
    }
  }
  const text = form.request;
  if (typeof text !== "string") {
    throw new InputError(
      "missing-field",
      "multipart field `request` (the training request as JSON text) is missing",
      "request",
    );
  }
  const file = form.dataset;
  if (!(file instanceof File)) {
    throw new InputError(
      "missing-field",
      "multipart field `dataset` (an .npz file with arrays x and y) is missing",
      "dataset",
    );
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError("malformed-file", "field `request` is not valid JSON", "request");
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InputError("missing-field", "field `request` must be a JSON object", "request");
  }
  const given = (raw.dataset ?? {}) as Record<string, unknown>;
  if (given.name !== undefined && given.name !== "upload") {
    throw new InputError(
      "missing-field",
      `request.dataset.name must be "upload" (or absent) when a dataset file is sent`,
      "request.dataset.name",
    );
  }
  rejectServerPaths(raw);
  const bytes = new Uint8Array(await file.arrayBuffer());
  // Checked now so that a bad file is a 4xx here, not a failed job later.
  try {
    datasetFromNpz(bytes, { maxBytes, source: file.name || "dataset" });
  } catch (err) {
    if (err instanceof InputError) {
      throw new InputError(
        err.problem,
        err.message,
        err.field && err.field !== "path" ? `dataset.${err.field}` : "dataset",
      );
    }
    throw err;
  }
  const job = resolveTrainingRequest({
    ...raw,
    // The engine replaces the path with where it keeps the upload.
    dataset: { ...given, name: "upload", path: "upload.npz" },
  });
  return { job, upload: bytes };
}
