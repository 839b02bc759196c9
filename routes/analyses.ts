/**
 * /v1/analyses: upload a dump, get nHSIC per layer and checkpoint with summaries; read, follow,
 * cancel and delete analyses.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import type { AnalysisOutput } from "../lib/analysis.ts";
import { analysisCsv } from "../lib/csv.ts";
import { dumpFromForm, parseJsonDump } from "../lib/dump/mod.ts";
import { InputError } from "../lib/errors.ts";
import { analysisCost } from "../lib/nhsic/cost.ts";
import { resolveEstimator } from "../lib/nhsic/config.ts";
import type { JobRecordOf } from "../workers/mod.ts";
import type { AppEnv, Deps } from "./env.ts";
import {
  accepted,
  IdParamSchema,
  jobFields,
  ownerOf,
  parseField,
  parseJsonField,
  problemResponse,
  streamJobEvents,
} from "./http.ts";
import {
  AnalysisSchema,
  AsyncQuerySchema,
  EstimatorSchema,
  JsonDumpSchema,
  LabelSchema,
  MultipartDumpSchema,
} from "./schemas.ts";

const createAnalysis = createRoute({
  method: "post",
  path: "/v1/analyses",
  summary: "Analyse an activation dump",
  description: "Computes nHSIC(X;T_l) and nHSIC(Y;T_l) for every layer and checkpoint, with " +
    "layer-differentiation and information-bottleneck summaries. Small dumps answer 200 with " +
    "the result; large ones (or ?async=true) answer 202 with a Location to poll and a " +
    "Retry-After.",
  request: {
    query: AsyncQuerySchema,
    body: {
      content: {
        "application/json": { schema: JsonDumpSchema },
        "multipart/form-data": { schema: MultipartDumpSchema },
      },
    },
  },
  responses: {
    200: { content: { "application/json": { schema: AnalysisSchema } }, description: "Done" },
    202: { content: { "application/json": { schema: AnalysisSchema } }, description: "Queued" },
    400: problemResponse("Malformed file or body"),
    401: problemResponse("Missing or unknown API key"),
    413: problemResponse("Body or dump over the configured limits"),
    415: problemResponse("Unsupported content type"),
    422: problemResponse("Invalid dump or estimator settings"),
  },
});

const getAnalysis = createRoute({
  method: "get",
  path: "/v1/analyses/{id}",
  summary: "Status and result of an analysis",
  description: "Append `.csv` to the id for one row per checkpoint and layer.",
  request: { params: IdParamSchema },
  responses: {
    200: {
      content: {
        "application/json": { schema: AnalysisSchema },
        "text/csv": { schema: { type: "string" } },
      },
      description: "The analysis (JSON), or its table (CSV, for ids ending in .csv)",
    },
    401: problemResponse("Missing or unknown API key"),
    404: problemResponse("No such analysis (for this key)"),
    409: problemResponse("CSV asked for an analysis that is not done"),
  },
});

const analysisEvents = createRoute({
  method: "get",
  path: "/v1/analyses/{id}/events",
  summary: "Progress of an analysis as server-sent events",
  description: "`progress` events while it runs, then a final `end` event with its status.",
  request: { params: IdParamSchema },
  responses: {
    200: {
      content: { "text/event-stream": { schema: { type: "string" } } },
      description: "The event stream",
    },
    401: problemResponse("Missing or unknown API key"),
    404: problemResponse("No such analysis (for this key)"),
  },
});

const deleteAnalysis = createRoute({
  method: "delete",
  path: "/v1/analyses/{id}",
  summary: "Delete an analysis",
  description: "Stops it if it is queued or running, then removes its record, result and input.",
  request: { params: IdParamSchema },
  responses: {
    204: { description: "Deleted" },
    401: problemResponse("Missing or unknown API key"),
    404: problemResponse("No such analysis (for this key)"),
  },
});

/** Registers the analysis routes. */
export function analysisRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const { jobs, settings } = deps;

  app.openapi(createAnalysis, async (c) => {
    const isJson = (c.req.header("content-type") ?? "").includes("json");
    let dump, estimator, label;
    if (isJson) {
      const body = c.req.valid("json") as z.infer<typeof JsonDumpSchema>;
      dump = parseJsonDump(body);
      estimator = body.estimator;
      label = body.label;
    } else {
      const form = await dumpFromForm(c.req.valid("form") as Record<string, File | string>, {
        textFields: ["estimator", "label"],
        maxBytes: settings.maxDumpBytes,
      });
      dump = form.dump;
      if (form.text.estimator !== undefined) {
        estimator = parseJsonField(form.text.estimator, EstimatorSchema, "estimator");
      }
      if (form.text.label !== undefined) label = parseField(form.text.label, LabelSchema, "label");
    }
    if (dump.x.rows > settings.maxSamples) {
      throw new InputError(
        "too-large",
        `the dump has ${dump.x.rows} samples; this service accepts at most ` +
          `${settings.maxSamples} (INFOPLANE_MAX_SAMPLES)`,
        "x",
      );
    }
    const config = resolveEstimator(estimator);
    const request = {
      estimator: config,
      m: dump.x.rows,
      layers: dump.checkpoints[0].layers.length,
      checkpoints: dump.checkpoints.length,
    };
    const queue = c.req.valid("query").async === "true" ||
      analysisCost(dump, config) > settings.syncWorkLimit;
    const { record, output } = await jobs.analyse(dump, request, ownerOf(c), { label, queue });
    if (output) {
      c.header("Location", `/v1/analyses/${record.id}`);
      return c.json(present(record, output), 200);
    }
    accepted(c, record);
    return c.json(present(record, null), 202);
  });

  app.openapi(getAnalysis, async (c) => {
    const raw = c.req.valid("param").id;
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

  app.openapi(analysisEvents, async (c) => {
    const rec = await jobs.get(c.req.valid("param").id, ownerOf(c), "analysis");
    return streamJobEvents(c, jobs, rec, settings.jobs.keepAliveMs);
  });

  app.openapi(deleteAnalysis, async (c) => {
    await jobs.remove(c.req.valid("param").id, ownerOf(c), "analysis");
    return c.body(null, 204);
  });
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
    ...(output ?? {}),
    links: {
      self: base,
      csv: `${base}.csv`,
      events: `${base}/events`,
      charts: `${base}/charts`,
    },
  };
}
