/**
 * /v1/trainings: train a model with several methods, track nHSIC per layer while it learns, and
 * follow, cancel, download and delete the result.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { trainingCsv } from "../lib/csv.ts";
import { InputError } from "../lib/errors.ts";
import { resolveTrainingRequest, TrainingRequestSchema } from "../lib/train/mod.ts";
import type { TrainingResult } from "../lib/train/mod.ts";
import { rejectServerPaths, trainingFromForm } from "../lib/train/mod.ts";
import type { JobRecordOf } from "../workers/mod.ts";
import type { AppEnv, Deps } from "./env.ts";
import {
  accepted,
  ACCEPTED_HEADERS,
  commonProblems,
  creationProblems,
  eventStreamResponse,
  IdParamSchema,
  jobFields,
  LastEventIdSchema,
  ownerOf,
  parseField,
  problemResponse,
  streamJobEvents,
} from "./http.ts";
import { refuseServerless } from "./problem.ts";
import { LabelSchema, TrainingMultipartSchema, TrainingSchema } from "./schemas.ts";
import { resultLinks } from "./ui/mod.ts";

/** The JSON body: a training request, plus a label for the job. */
const TrainingBodySchema = TrainingRequestSchema.extend({ label: LabelSchema.optional() })
  .openapi("TrainingRequest");

const createTraining = createRoute({
  method: "post",
  path: "/v1/trainings",
  operationId: "createTraining",
  tags: ["trainings"],
  summary: "Start a training job",
  description: "Queues a job that trains the model with each method and tracks nHSIC(X;T_l) and " +
    "nHSIC(Y;T_l) of every layer during training. Answers 202 with a Location to poll; follow " +
    "progress at `/v1/trainings/{id}/events` (server-sent events). Send JSON, or multipart " +
    "with a `request` field (JSON text) and a `dataset` .npz file for your own data.",
  request: {
    body: {
      // Not `required: true`: zod-openapi would then run the JSON validator on multipart bodies.
      content: {
        "application/json": {
          schema: TrainingBodySchema,
          example: {
            model: { preset: "mlp", depth: 4 },
            dataset: { name: "mnist", train_limit: 10000 },
            methods: [{ name: "e2e" }, { name: "layerwise", loss: "cross_entropy" }],
            optimizer: { epochs: 2 },
            label: "mlp4 e2e vs layer-wise",
          },
        },
        "multipart/form-data": {
          schema: TrainingMultipartSchema,
          encoding: {
            request: { contentType: "application/json" },
            dataset: { contentType: "application/zip, application/octet-stream" },
          },
        },
      },
    },
  },
  responses: {
    202: {
      content: { "application/json": { schema: TrainingSchema } },
      description: "Queued: follow Location or the events",
      headers: ACCEPTED_HEADERS,
    },
    400: problemResponse("Malformed body or dataset file"),
    ...creationProblems(),
    422: problemResponse("Invalid training request or dataset (the field is named)"),
    501: problemResponse("Trainings do not run in this deployment (serverless mode)"),
  },
});

const idParam = { params: IdParamSchema };
const notFound = problemResponse("No such training (for this key)");

const getTraining = createRoute({
  method: "get",
  path: "/v1/trainings/{id}",
  operationId: "getTraining",
  tags: ["trainings"],
  summary: "Status, progress and result of a training job",
  description: "`/v1/trainings/{id}.csv` has the result as a table.",
  request: idParam,
  responses: {
    200: { content: { "application/json": { schema: TrainingSchema } }, description: "The job" },
    ...commonProblems(),
    404: notFound,
  },
});

/** Documented apart; served by the route above (ids ending in .csv). */
const getTrainingCsv = createRoute({
  method: "get",
  path: "/v1/trainings/{id}.csv",
  operationId: "getTrainingCsv",
  tags: ["trainings"],
  summary: "The result of a training job as CSV",
  description: "One row per method, checkpoint and layer (method, step, epoch, layer, nhsic_x, " +
    "nhsic_y, nhsic_x_norm, nhsic_y_norm, test_accuracy); the table exists once the job is " +
    "done (409 before).",
  request: idParam,
  responses: {
    200: {
      content: {
        "text/csv": { schema: z.string().openapi({ description: "CSV with a header row." }) },
      },
      description: "The table",
    },
    ...commonProblems(),
    404: notFound,
    409: problemResponse("The job is not done"),
  },
});

const trainingEvents = createRoute({
  method: "get",
  path: "/v1/trainings/{id}/events",
  operationId: "getTrainingEvents",
  tags: ["trainings"],
  summary: "Progress of a training job as server-sent events",
  description: "Replays the job's logged events, then streams new ones until the job ends. " +
    "Event names are the event types (started, step, checkpoint, method_done, log), data is " +
    "the event as JSON (`TrainingEvent`), ids are positions in the log (send Last-Event-ID to " +
    "resume); `progress` events (no id) carry the record's `TrainingProgress` when it changes. " +
    'A final `end` event carries `{"status", "error"}`. Step events are thinned out (a few per ' +
    "second).",
  request: { ...idParam, headers: LastEventIdSchema },
  responses: {
    200: eventStreamResponse(
      "Logged events carry a `TrainingEvent`; `progress` events a `TrainingProgress`.",
      ["TrainingEvent", "TrainingProgress"],
    ),
    ...commonProblems(),
    404: notFound,
  },
});

const cancelTraining = createRoute({
  method: "post",
  path: "/v1/trainings/{id}/cancel",
  operationId: "cancelTraining",
  tags: ["trainings"],
  summary: "Cancel a training job",
  description: "A queued job never starts; a running one stops at its next step. The record " +
    "stays, with status cancelled.",
  request: idParam,
  responses: {
    200: { content: { "application/json": { schema: TrainingSchema } }, description: "Cancelled" },
    ...commonProblems(),
    404: notFound,
    409: problemResponse("The job has already finished"),
  },
});

const deleteTraining = createRoute({
  method: "delete",
  path: "/v1/trainings/{id}",
  operationId: "deleteTraining",
  tags: ["trainings"],
  summary: "Delete a training job",
  description: "Stops it if it is queued or running, then removes its record, events, result " +
    "and uploaded dataset.",
  request: idParam,
  responses: {
    204: { description: "Deleted" },
    ...commonProblems(),
    404: notFound,
  },
});

/** Registers the training routes. */
export function trainingRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const { jobs, settings } = deps;

  app.openapi(createTraining, async (c) => {
    refuseServerless(settings, "trainings");
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

  // Documented as two operations (JSON, CSV); one route, which the id's suffix decides.
  app.openAPIRegistry.registerPath(getTraining);
  app.openAPIRegistry.registerPath(getTrainingCsv);
  app.get("/v1/trainings/:id", async (c) => {
    const raw = c.req.param("id");
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
  // lib/train/types.ts types the model `unknown`; routes/schemas.ts checks that the rest agrees.
  type Wire = z.infer<typeof TrainingSchema>;
  return {
    ...jobFields(rec),
    progress: rec.progress,
    job: job as unknown as Wire["job"],
    ...(result ? { result: result as unknown as Wire["result"] } : {}),
    links: {
      self: base,
      events: `${base}/events`,
      csv: `${base}.csv`,
      cancel: `${base}/cancel`,
      ...resultLinks(rec),
    },
  };
}
