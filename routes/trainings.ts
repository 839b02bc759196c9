/**
 * /v1/trainings: train a model with several methods, track nHSIC per layer while it learns, and
 * follow, cancel, download and delete the result.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import { trainingCsv } from "../lib/csv.ts";
import { InputError } from "../lib/errors.ts";
import { resolveTrainingRequest, TrainingRequestSchema } from "../lib/train/request.ts";
import type { TrainingResult } from "../lib/train/types.ts";
import { rejectServerPaths, trainingFromForm } from "../lib/train/upload_request.ts";
import type { JobRecordOf } from "../workers/mod.ts";
import type { AppEnv, Deps } from "./env.ts";
import {
  accepted,
  IdParamSchema,
  jobFields,
  ownerOf,
  parseField,
  problemResponse,
  streamJobEvents,
} from "./http.ts";
import { LabelSchema, TrainingMultipartSchema, TrainingSchema } from "./schemas.ts";
import { resultLinks } from "./ui/mod.ts";

/** The JSON body: a training request, plus a label for the job. */
const TrainingBodySchema = TrainingRequestSchema.extend({ label: LabelSchema.optional() })
  .openapi("TrainingRequest");

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
        "application/json": { schema: TrainingBodySchema },
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
    "Event names are the event types (started, step, checkpoint, method_done, log, progress), " +
    "data is the event as JSON, ids are positions in the log (send Last-Event-ID to resume). " +
    'A final `end` event carries `{"status", "error"}`. Step events are thinned out (a few per ' +
    "second) and comment lines keep idle connections open.",
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
  method: "post",
  path: "/v1/trainings/{id}/cancel",
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

const deleteTraining = createRoute({
  method: "delete",
  path: "/v1/trainings/{id}",
  summary: "Delete a training job",
  description: "Stops it if it is queued or running, then removes its record, events, result " +
    "and uploaded dataset.",
  request: idParam,
  responses: {
    204: { description: "Deleted" },
    401: problemResponse("Missing or unknown API key"),
    404: problemResponse("No such training (for this key)"),
  },
});

/** Registers the training routes. */
export function trainingRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const { jobs, settings } = deps;

  app.openapi(createTraining, async (c) => {
    const isJson = (c.req.header("content-type") ?? "").includes("json");
    let rec;
    if (isJson) {
      const raw = await c.req.json();
      if ((raw as { dataset?: { name?: unknown } })?.dataset?.name === "upload") {
        throw new InputError(
          "invalid-request",
          'dataset.name: "upload" datasets are sent as multipart/form-data with a `request` ' +
            "field (this JSON) and a `dataset` file (.npz)",
          "dataset.name",
        );
      }
      rejectServerPaths(raw);
      const { label, ...request } = raw as Record<string, unknown>;
      const job = resolveTrainingRequest(request);
      rec = await jobs.submit("training", job, ownerOf(c), {
        label: label === undefined ? null : parseField(label, LabelSchema, "label"),
      });
    } else {
      const form = c.req.valid("form") as Record<string, File | string>;
      const { job, raw, upload } = await trainingFromForm(form, settings.maxDumpBytes);
      rec = await jobs.submit("training", job, ownerOf(c), {
        label: raw.label === undefined ? null : parseField(raw.label, LabelSchema, "label"),
        input: upload,
      });
    }
    accepted(c, rec, 2);
    return c.json(present(rec, null), 202);
  });

  app.openapi(getTraining, async (c) => {
    const raw = c.req.valid("param").id;
    const csv = raw.endsWith(".csv");
    const rec = await jobs.get(csv ? raw.slice(0, -4) : raw, ownerOf(c), "training");
    if (csv) {
      return c.body(trainingCsv(await jobs.finishedResult(rec)), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `inline; filename="training-${rec.id}.csv"`,
      });
    }
    return c.json(present(rec, await jobs.result(rec)), 200);
  });

  app.openapi(trainingEvents, async (c) => {
    const rec = await jobs.get(c.req.valid("param").id, ownerOf(c), "training");
    return streamJobEvents(c, jobs, rec, settings.jobs.keepAliveMs);
  });

  app.openapi(cancelTraining, async (c) => {
    const rec = await jobs.cancel(c.req.valid("param").id, ownerOf(c), "training");
    return c.json(present(rec, null), 200);
  });

  app.openapi(deleteTraining, async (c) => {
    await jobs.remove(c.req.valid("param").id, ownerOf(c), "training");
    return c.body(null, 204);
  });
}

/** The API shape of a job: record fields, then the result once done. */
function present(
  rec: JobRecordOf<"training">,
  result: TrainingResult | null,
): z.infer<typeof TrainingSchema> {
  const job = rec.request.dataset.name === "upload"
    ? { ...rec.request, dataset: { ...rec.request.dataset, path: "(uploaded)" } }
    : rec.request;
  const base = `/v1/trainings/${rec.id}`;
  return {
    ...jobFields(rec),
    progress: rec.progress,
    job,
    ...(result ? { result } : {}),
    links: {
      self: base,
      events: `${base}/events`,
      csv: `${base}.csv`,
      cancel: `${base}/cancel`,
      ...resultLinks(rec),
    },
  };
}
