/** /v1/analyses: upload a dump, get nHSIC per layer and checkpoint with summaries. */
import { createRoute, type OpenAPIHono, type z } from "@hono/zod-openapi";
import { stringify } from "csv-stringify/sync";
import type { Context } from "hono";
import {
  assembleDump,
  parseArrayFile,
  parseJsonDump,
  parseLayerKey,
  parseNpzDump,
} from "../lib/dump/mod.ts";
import type { Dump, NdArray } from "../lib/dump/types.ts";
import { InputError } from "../lib/errors.ts";
import { resolveEstimator } from "../lib/nhsic/config.ts";
import type { AnalysisOutput } from "../lib/analysis.ts";
import type { AnalysisRecord } from "../workers/analysis_store.ts";
import type { AppEnv, Deps } from "./env.ts";
import { problem } from "./problem.ts";
import {
  AnalysisSchema,
  AsyncQuerySchema,
  EstimatorSchema,
  IdParamSchema,
  JsonDumpSchema,
  MultipartDumpSchema,
  ProblemSchema,
} from "./schemas.ts";

const problemResponse = (description: string) => ({
  content: { "application/problem+json": { schema: ProblemSchema } },
  description,
});

const createAnalysis = createRoute({
  method: "post",
  path: "/v1/analyses",
  summary: "Analyse an activation dump",
  description: "Computes nHSIC(X;T_l) and nHSIC(Y;T_l) for every layer and checkpoint, with " +
    "layer-differentiation and information-bottleneck summaries. Small dumps answer 200 with " +
    "the result; large ones (or ?async=true) answer 202 with a Location to poll.",
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
  },
});

/** Registers the analysis routes. */
export function analysisRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(createAnalysis, async (c) => {
    const query = c.req.valid("query");
    const isJson = (c.req.header("content-type") ?? "").includes("json");
    const { dump, estimator } = isJson
      ? fromJson(c.req.valid("json") as z.infer<typeof JsonDumpSchema>)
      : await fromForm(
        c.req.valid("form") as Record<string, File | string>,
        deps.settings.maxDumpBytes,
      );
    if (dump.x.rows > deps.settings.maxSamples) {
      throw new InputError(
        "too-large",
        `the dump has ${dump.x.rows} samples; this service accepts at most ` +
          `${deps.settings.maxSamples} (INFOPLANE_MAX_SAMPLES)`,
        "x",
      );
    }
    const config = resolveEstimator(estimator);
    const { record, output } = await deps.analyses.submit(dump, config, c.get("owner"), {
      async: query.async === "true",
    });
    c.header("Location", `/v1/analyses/${record.id}`);
    return c.json(present(record, output), output ? 200 : 202);
  });

  app.openapi(getAnalysis, async (c) => {
    const raw = c.req.valid("param").id;
    const csv = raw.endsWith(".csv");
    const id = csv ? raw.slice(0, -4) : raw;
    const rec = await deps.analyses.store.get(id);
    if (!rec || rec.owner !== c.get("owner")) {
      return problem(c, 404, "not-found", `no analysis with id "${id}"`, { field: "id" });
    }
    const output = await deps.analyses.store.result(rec);
    if (!csv) return c.json(present(rec, output), 200);
    if (!output) {
      return problem(c, 404, "not-found", `analysis "${id}" is ${rec.status}; no table yet`, {
        field: "id",
      });
    }
    return csvResponse(c, id, output);
  });
}

/** The API shape of an analysis: record fields, then the result once done. */
function present(
  rec: AnalysisRecord,
  output: AnalysisOutput | null,
): z.infer<typeof AnalysisSchema> {
  return {
    id: rec.id,
    status: rec.status,
    created_at: rec.created_at,
    updated_at: rec.updated_at,
    progress: rec.progress,
    error: rec.error,
    m: rec.m,
    estimator: rec.estimator,
    ...(output ?? {}),
    links: { self: `/v1/analyses/${rec.id}`, csv: `/v1/analyses/${rec.id}.csv` },
  };
}

function csvResponse(c: Context, id: string, out: AnalysisOutput): Response {
  const rows: unknown[][] = [[
    "step",
    "layer_index",
    "layer",
    "nhsic_x",
    "nhsic_y",
    "nhsic_x_norm",
    "nhsic_y_norm",
    "cka_x",
    "cka_y",
  ]];
  for (const cp of out.checkpoints) {
    cp.layers.forEach((l, i) =>
      rows.push([
        cp.step,
        i,
        l.name,
        l.nhsic_x,
        l.nhsic_y,
        l.nhsic_x_norm,
        l.nhsic_y_norm,
        l.cka_x,
        l.cka_y,
      ])
    );
  }
  return c.body(stringify(rows), 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `inline; filename="analysis-${id}.csv"`,
  });
}

type Estimator = z.infer<typeof EstimatorSchema>;

function fromJson(body: z.infer<typeof JsonDumpSchema>): { dump: Dump; estimator?: Estimator } {
  return { dump: parseJsonDump(body), estimator: body.estimator };
}

async function fromForm(
  form: Record<string, File | string>,
  maxBytes: number,
): Promise<{ dump: Dump; estimator?: Estimator }> {
  let estimator: Estimator | undefined;
  const files = new Map<string, File>();
  for (const [key, value] of Object.entries(form)) {
    if (key === "estimator") {
      if (typeof value !== "string") {
        throw new InputError("invalid-estimator", "field estimator must be JSON text", key);
      }
      estimator = parseEstimatorText(value);
    } else if (value instanceof File) {
      files.set(key, value);
    } else {
      throw new InputError(
        "missing-field",
        `field "${key}" must be a file (unknown text fields are not accepted)`,
        key,
      );
    }
  }
  const whole = files.get("dump");
  if (whole) {
    if (files.size > 1) {
      throw new InputError(
        "malformed-file",
        "send either a `dump` archive or one file per array, not both",
        "dump",
      );
    }
    return {
      dump: parseNpzDump(new Uint8Array(await whole.arrayBuffer()), whole.name, { maxBytes }),
      estimator,
    };
  }
  const arrays = new Map<string, NdArray>();
  for (const [key, f] of files) {
    arrays.set(key, parseArrayFile(new Uint8Array(await f.arrayBuffer()), f.name || key, key));
  }
  const need = (k: string) => {
    const a = arrays.get(k);
    if (!a) throw new InputError("missing-field", `multipart field "${k}" is missing`, k);
    return a;
  };
  const dump = assembleDump({
    x: need("x"),
    y: need("y"),
    layers: [...arrays].filter(([k]) => k !== "x" && k !== "y").map(([k, array]) => ({
      ...parseLayerKey(k),
      array,
      source: files.get(k)!.name,
    })),
  });
  return { dump, estimator };
}

function parseEstimatorText(text: string): Estimator {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InputError("invalid-estimator", "field estimator is not valid JSON", "estimator");
  }
  const parsed = EstimatorSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = [
      "estimator",
      ...issue.path,
      ...(issue.code === "unrecognized_keys" ? issue.keys.slice(0, 1) : []),
    ].map(String).join(".");
    throw new InputError("invalid-estimator", `${path}: ${issue.message}`, path);
  }
  return parsed.data;
}
