/**
 * /v1/analyses: upload a dump, get nHSIC per layer and checkpoint with summaries; read, follow,
 * cancel and delete analyses.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AnalysisOutput } from "../lib/analysis.ts";
import { analysisCsv } from "../lib/csv.ts";
import type { AnalysisSubmission } from "../lib/analysis_request.ts";
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
  problemResponse,
  readBody,
  streamJobEvents,
} from "./http.ts";
import {
  AnalysisSchema,
  AsyncQuerySchema,
  JsonDumpSchema,
  MultipartDumpSchema,
} from "./schemas.ts";
import { resultLinks } from "./ui/mod.ts";

const createAnalysis = createRoute({
  method: "post",
  path: "/v1/analyses",
  operationId: "createAnalysis",
  tags: ["analyses"],
  summary: "Analyse an activation dump",
  description: "Computes nHSIC(X;T_l) and nHSIC(Y;T_l) for every layer and checkpoint, with " +
    "layer-differentiation and information-bottleneck summaries. Small dumps answer 200 with " +
    "the result; large ones (or ?async=true) answer 202 with a Location to poll and a " +
    "Retry-After.",
  request: {
    query: AsyncQuerySchema,
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: MultipartDumpSchema,
          encoding: {
            dump: { contentType: "application/zip, application/octet-stream" },
            estimator: { contentType: "application/json" },
            measures: { contentType: "application/json" },
            measure_options: { contentType: "application/json" },
            similarity: { contentType: "application/json" },
            sweep: { contentType: "application/json" },
          },
        },
        "application/json": { schema: JsonDumpSchema },
      },
    },
  },
  responses: {
    200: {
      content: { "application/json": { schema: AnalysisSchema } },
      description: "Done: the result",
      headers: { Location: ACCEPTED_HEADERS.Location },
    },
    202: {
      content: { "application/json": { schema: AnalysisSchema } },
      description: "Queued: follow Location",
      headers: ACCEPTED_HEADERS,
    },
    400: problemResponse("Malformed file or body"),
    ...creationProblems(),
    413: problemResponse("Body or dump over the configured limits"),
    422: problemResponse("Invalid dump or estimator settings (the field is named)"),
  },
});

const getAnalysis = createRoute({
  method: "get",
  path: "/v1/analyses/{id}",
  operationId: "getAnalysis",
  tags: ["analyses"],
  summary: "Status and result of an analysis",
  description: "Status, progress and, once done, the result. `/v1/analyses/{id}.csv` has the " +
    "table as CSV.",
  request: { params: IdParamSchema },
  responses: {
    200: {
      content: { "application/json": { schema: AnalysisSchema } },
      description: "The analysis",
    },
    ...commonProblems(),
    404: problemResponse("No such analysis (for this key)"),
  },
});

/** Documented apart; served by the route above (ids ending in .csv). */
const getAnalysisCsv = createRoute({
  method: "get",
  path: "/v1/analyses/{id}.csv",
  operationId: "getAnalysisCsv",
  tags: ["analyses"],
  summary: "The result of an analysis as CSV",
  description: "One row per checkpoint and layer: step, layer, nhsic_x, nhsic_y, nhsic_x_norm, " +
    "nhsic_y_norm, cka_x, cka_y (and the columns of extra measures when asked for).",
  request: { params: IdParamSchema },
  responses: {
    200: {
      content: {
        "text/csv": { schema: z.string().openapi({ description: "CSV with a header row." }) },
      },
      description: "The table",
    },
    ...commonProblems(),
    404: problemResponse("No such analysis (for this key)"),
    409: problemResponse("The analysis is not done"),
  },
});

const analysisEvents = createRoute({
  method: "get",
  path: "/v1/analyses/{id}/events",
  operationId: "getAnalysisEvents",
  tags: ["analyses"],
  summary: "Progress of an analysis as server-sent events",
  description: "`progress` events (an `AnalysisProgress`) while it runs, then a final `end` " +
    "event with its status.",
  request: { params: IdParamSchema, headers: LastEventIdSchema },
  responses: {
    200: eventStreamResponse("`progress` events carry an `AnalysisProgress`.", [
      "AnalysisProgress",
    ]),
    ...commonProblems(),
    404: problemResponse("No such analysis (for this key)"),
  },
});

const cancelAnalysis = createRoute({
  method: "post",
  path: "/v1/analyses/{id}/cancel",
  operationId: "cancelAnalysis",
  tags: ["analyses"],
  summary: "Cancel a queued or running analysis",
  description: "A queued analysis never starts; a running one stops after its current " +
    "estimator task. The record stays, with status cancelled.",
  request: { params: IdParamSchema },
  responses: {
    200: { content: { "application/json": { schema: AnalysisSchema } }, description: "Cancelled" },
    ...commonProblems(),
    404: problemResponse("No such analysis (for this key)"),
    409: problemResponse("The analysis has already finished"),
  },
});

const deleteAnalysis = createRoute({
  method: "delete",
  path: "/v1/analyses/{id}",
  operationId: "deleteAnalysis",
  tags: ["analyses"],
  summary: "Delete an analysis",
  description: "Stops it if it is queued or running, then removes its record, result and input.",
  request: { params: IdParamSchema },
  responses: {
    204: { description: "Deleted" },
    ...commonProblems(),
    404: problemResponse("No such analysis (for this key)"),
  },
});

/** Registers the analysis routes. */
export function analysisRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const { jobs, settings } = deps;

  // Documented with its schemas, routed without zod's body validators: the body is read in a
  // Web Worker (lib/analysis_request.ts), never parsed on the event loop.
  app.openAPIRegistry.registerPath(createAnalysis);
  app.post("/v1/analyses", async (c) => {
    const contentType = c.req.header("content-type") ?? "";
    const reservation = c.get("reservation");
    const raw = await readBody(c.req.raw);
    // JSON expands several-fold while it is parsed; a form is held three times (the body, the
    // form's file, the archive's bytes) until the body and the form are collected.
    const parsing = raw.length * (contentType.includes("json") ? 10 : 3);
    reservation?.resize(parsing, "reading the request", "(body)");
    const sub = await jobs.readAnalysis(raw, contentType, {
      maxBytes: Math.min(settings.maxDumpBytes, deps.budget.available + parsing),
      maxSamples: settings.maxSamples,
      syncWorkLimit: settings.syncWorkLimit,
      forceQueue: c.req.query("async") === "true",
    });
    reservation?.resize(
      sub.dumpBytes + (sub.run.queue ? sub.run.npz.length : analysisWorkingBytes(sub)),
      "the analysis",
      "x",
    );
    const { record, output } = await jobs.analyse(sub, ownerOf(c));
    if (output) {
      c.header("Location", `/v1/analyses/${record.id}`);
      return c.json(present(record, output), 200);
    }
    accepted(c, record);
    return c.json(present(record, null), 202);
  });

  // Documented as two operations (JSON, CSV); one route, which the id's suffix decides.
  app.openAPIRegistry.registerPath(getAnalysis);
  app.get("/v1/analyses/:id", async (c) => {
    const raw = c.req.param("id");
    const csv = raw.endsWith(".csv");
    const rec = await jobs.get(csv ? raw.slice(0, -4) : raw, ownerOf(c), "analysis");
    if (csv) {
      return c.body(analysisCsv(await jobs.finishedResult(rec)), 200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `inline; filename="analysis-${rec.id}.csv"`,
      });
    }
    return c.json(present(rec, await jobs.result(rec)), 200);
  });

  app.openAPIRegistry.registerPath(getAnalysisCsv);

  app.openapi(analysisEvents, async (c) => {
    const rec = await jobs.get(c.req.valid("param").id, ownerOf(c), "analysis");
    return streamJobEvents(c, jobs, rec, settings.jobs.keepAliveMs);
  });

  app.openapi(cancelAnalysis, async (c) => {
    const rec = await jobs.cancel(c.req.valid("param").id, ownerOf(c), "analysis");
    return c.json(present(rec, null), 200);
  });

  app.openapi(deleteAnalysis, async (c) => {
    await jobs.remove(c.req.valid("param").id, ownerOf(c), "analysis");
    return c.body(null, 204);
  });
}

/**
 * Bytes an inline analysis holds besides the dump: float64 copies of the widest layer and the
 * m x m matrices of the estimator (four at once), and the similarity maps' operators.
 */
function analysisWorkingBytes(sub: AnalysisSubmission): number {
  const { m, layers, checkpoints } = sub.shape;
  const b = Math.min(sub.estimator.batch_size ?? m, m);
  const maps = sub.request.similarity.length ? (layers + 2) * m * m * 8 : 0;
  return 4 * b * b * 8 + 2 * sub.dumpBytes / Math.max(1, layers * checkpoints) + maps;
}

/** The API shape of an analysis: record fields, then the result once done. */
function present(
  rec: JobRecordOf<"analysis">,
  output: AnalysisOutput | null,
): z.infer<typeof AnalysisSchema> {
  const base = `/v1/analyses/${rec.id}`;
  return {
    ...jobFields(rec),
    progress: rec.progress,
    m: rec.request.m,
    estimator: rec.request.estimator,
    options: rec.request.options,
    ...(output ?? {}),
    links: {
      self: base,
      csv: `${base}.csv`,
      events: `${base}/events`,
      ...resultLinks(rec),
    },
  };
}
