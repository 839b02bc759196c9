/**
 * Charts of analyses and trainings: the Vega-Lite spec (for dashboards) or the service's own
 * SVG/PNG rendering of it.
 *
 *   GET /v1/charts                                         catalogue
 *   GET /v1/analyses/{id}/charts/{chart}.{format}          chart of a finished analysis
 *   GET /v1/trainings/{id}/charts/{chart}.{format}         chart of a finished training
 *
 * Results are immutable once finished, so renderings are cached in memory (small LRU) and
 * answered with an ETag and a private Cache-Control.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { LRUCache } from "lru-cache";
import type { AnalysisOutput } from "../lib/analysis.ts";
import {
  buildChart,
  buildMeasureChart,
  CHART_FORMATS,
  CHART_MEDIA_TYPES,
  CHART_NAMES,
  type ChartFormat,
  type ChartName,
  CHARTS,
  type ChartSourceKind,
  isChartFormat,
  isChartName,
  isMeasureChartName,
  MEASURE_CHART_NAMES,
  MEASURE_CHARTS,
  renderPng,
  renderSvg,
} from "../lib/charts/mod.ts";
import { ConflictError, InputError, NotFoundError } from "../lib/errors.ts";
import type { SimilarityName } from "../lib/measures/mod.ts";
import type { TrainingResult } from "../lib/train/mod.ts";
import type { AppEnv, Deps } from "./env.ts";
import { commonProblems, ownerOf, problemResponse } from "./http.ts";

/** Cache-Control of chart responses: finished results never change; they belong to a key. */
export const CHART_CACHE_CONTROL = "private, max-age=3600";

const DEFAULT_SCALE = 2;

const ChartInfoSchema = z.object({
  name: z.enum([...CHART_NAMES, ...MEASURE_CHART_NAMES]),
  title: z.string(),
  description: z.string(),
  sources: z.array(z.enum(["analyses", "trainings"])),
  formats: z.array(z.enum(CHART_FORMATS)),
  urls: z.record(z.string(), z.string()).openapi({
    description: "URL template per source; replace {id} and {format}",
  }),
}).openapi("ChartInfo");

const ChartListSchema = z.object({
  charts: z.array(ChartInfoSchema),
  formats: z.array(z.object({ name: z.enum(CHART_FORMATS), media_type: z.string() })),
}).openapi("ChartList");

const listCharts = createRoute({
  method: "get",
  path: "/v1/charts",
  operationId: "listCharts",
  tags: ["charts"],
  summary: "Charts the service draws",
  description: "Each chart is served as a Vega-Lite v5 spec (json, data inlined, ready for " +
    "vega-embed) or rendered by the service (svg, png) for any finished analysis or training.",
  responses: {
    200: { content: { "application/json": { schema: ChartListSchema } }, description: "Catalogue" },
    ...commonProblems(),
  },
});

function chartRoute(kind: ChartSourceKind) {
  const charts: string[] = [
    ...CHARTS.filter((c) => c.sources.includes(kind)).map((c) => c.name),
    ...(kind === "analyses" ? MEASURE_CHART_NAMES : []),
  ];
  const noun = kind === "analyses" ? "analysis" : "training";
  return createRoute({
    method: "get",
    path: `/v1/${kind}/{id}/charts/{chart}.{format}`,
    operationId: kind === "analyses" ? "getAnalysisChart" : "getTrainingChart",
    tags: ["charts"],
    summary: `Chart of a finished ${noun}`,
    description: `A chart of ${noun} {id}: \`json\` is the Vega-Lite v5 spec with the data ` +
      "inlined (embed it with vega-embed), `svg` and `png` are the service's rendering of it " +
      "(Inter font, white background). Unknown ids, charts and formats answer 404, and so " +
      `does a ${noun} that has not finished yet. See /v1/charts for what each chart shows.`,
    request: {
      params: z.object({
        id: z.string().min(1).openapi({ param: { name: "id", in: "path" } }),
        chart: z.enum(charts as [ChartName, ...ChartName[]]).openapi({
          param: { name: "chart", in: "path" },
        }),
        format: z.enum(CHART_FORMATS).openapi({ param: { name: "format", in: "path" } }),
      }),
      query: z.object({
        scale: z.string().optional().openapi({
          param: { name: "scale", in: "query" },
          description: "PNG only: pixels per SVG unit, 1 to 4 (default 2)",
          example: "2",
        }),
      }),
    },
    responses: {
      200: {
        content: {
          "application/json": {
            schema: z.record(z.string(), z.unknown()).openapi({
              description: "Vega-Lite v5 specification",
            }),
          },
          "image/svg+xml": { schema: z.string() },
          "image/png": { schema: z.string().openapi({ format: "binary" }) },
        },
        description: "The chart",
        headers: {
          ETag: { description: "Strong validator of the rendering.", schema: { type: "string" } },
          "Cache-Control": { schema: { type: "string" } },
        },
      },
      304: { description: "Not modified (If-None-Match matched the ETag)" },
      ...commonProblems(),
      404: problemResponse(`No such ${noun} (for this key) or not finished; unknown chart/format`),
      409: problemResponse(`The ${noun} exists but has not finished (when the store can tell)`),
      422: problemResponse("Invalid scale"),
    },
  });
}

/** Registers the chart routes on `app` (the OpenAPI document included). */
export function chartRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(listCharts, (c) =>
    c.json({
      charts: [
        ...CHARTS.map((ch) => ({
          name: ch.name,
          title: ch.title,
          description: ch.description,
          sources: ch.sources,
          formats: [...CHART_FORMATS],
          urls: Object.fromEntries(
            ch.sources.map((s) => [s, `/v1/${s}/{id}/charts/${ch.name}.{format}`]),
          ),
        })),
        ...MEASURE_CHARTS.map((ch) => ({
          name: ch.name,
          title: ch.title,
          description: `${ch.description} Needs ${ch.needs}; ?measure= and ?step= pick the map.`,
          sources: ["analyses" as const],
          formats: [...CHART_FORMATS],
          urls: { analyses: `/v1/analyses/{id}/charts/${ch.name}.{format}` },
        })),
      ],
      formats: CHART_FORMATS.map((f) => ({ name: f, media_type: CHART_MEDIA_TYPES[f] })),
    }, 200));

  const cache = renderCache(64, 32 * 1024 * 1024);
  for (const kind of ["analyses", "trainings"] as const) {
    // Documented with {chart}.{format}; routed as one segment, split here, so that unknown
    // charts and formats are 404s rather than validation errors.
    app.openAPIRegistry.registerPath(chartRoute(kind));
    app.get(`/v1/${kind}/:id/charts/:file`, (c) => serveChart(c, kind, deps, cache));
  }
}

async function serveChart(
  c: Context<AppEnv>,
  kind: ChartSourceKind,
  deps: Deps,
  cache: RenderCache,
): Promise<Response> {
  const id = c.req.param("id") ?? "";
  const file = c.req.param("file") ?? "";
  const noun = kind === "analyses" ? "analysis" : "training";
  const dot = file.lastIndexOf(".");
  const chart = dot > 0 ? file.slice(0, dot) : file;
  const format = dot > 0 ? file.slice(dot + 1) : "";
  const measureChart = kind === "analyses" && isMeasureChartName(chart);
  if (
    !measureChart &&
    (!isChartName(chart) || !CHARTS.find((ch) => ch.name === chart)!.sources.includes(kind))
  ) {
    const offered = [
      ...CHARTS.filter((ch) => ch.sources.includes(kind)).map((ch) => ch.name),
      ...(kind === "analyses" ? MEASURE_CHART_NAMES : []),
    ];
    throw new NotFoundError(
      `no chart "${chart}" for ${kind}; available: ${offered.join(", ")}`,
      "chart",
    );
  }
  if (!isChartFormat(format)) {
    throw new NotFoundError(
      `${format ? `no format "${format}"` : "missing format"}; use ${chart}.json, ` +
        `${chart}.svg or ${chart}.png`,
      "format",
    );
  }
  let scale = DEFAULT_SCALE;
  const rawScale = c.req.query("scale");
  if (rawScale !== undefined) {
    scale = Number(rawScale);
    if (format !== "png" || !(scale >= 1 && scale <= 4)) {
      throw new InputError(
        "invalid-request",
        format !== "png"
          ? "scale applies to png only"
          : `scale must be a number from 1 to 4, got "${rawScale}"`,
        "scale",
      );
    }
  }

  const owner = ownerOf(c);
  let spec: Record<string, unknown>;
  let variant = "";
  if (isMeasureChartName(chart)) {
    // Which map: ?measure= (default the first asked) and ?step= (default the last checkpoint).
    const measure = c.req.query("measure");
    const step = c.req.query("step") === undefined ? undefined : Number(c.req.query("step"));
    variant = `${measure ?? ""}@${step ?? ""}`;
    const result = await finished(deps, id, owner, "analysis");
    try {
      spec = buildMeasureChart(chart, result, {
        measure: measure as SimilarityName | undefined,
        step,
      });
    } catch (e) {
      if (e instanceof RangeError) throw new ConflictError(e.message, "chart");
      throw e;
    }
  } else {
    const source = kind === "analyses"
      ? { kind, result: await finished(deps, id, owner, "analysis") }
      : { kind, result: await finished(deps, id, owner, "training") };
    spec = buildChart(chart as ChartName, source);
  }
  const key = [kind, owner, id, chart, variant, format, format === "png" ? scale : ""]
    .join("\u0000");
  const entry = await cache.fetch(key, { context: () => render(spec, format, scale) });
  const headers: Record<string, string> = {
    "content-type": CHART_MEDIA_TYPES[format] + (format === "png" ? "" : "; charset=utf-8"),
    "cache-control": CHART_CACHE_CONTROL,
    "etag": entry!.etag,
    "content-disposition": `inline; filename="${safeName(`${noun}-${id}-${chart}`)}.${format}"`,
    "x-content-type-options": "nosniff",
  };
  if (format === "svg") {
    headers["content-security-policy"] = "default-src 'none'; style-src 'unsafe-inline'";
  }
  if (matches(c.req.header("if-none-match"), entry!.etag)) {
    const { "content-type": _t, "content-disposition": _d, ...rest } = headers;
    return c.body(null, 304, rest);
  }
  return c.body(entry!.body as Uint8Array<ArrayBuffer>, 200, headers);
}

/** The result of a finished job of the caller (404 unknown, 409 not finished). */
async function finished<K extends "analysis" | "training">(
  deps: Deps,
  id: string,
  owner: string,
  kind: K,
): Promise<K extends "analysis" ? AnalysisOutput : TrainingResult>;
async function finished(deps: Deps, id: string, owner: string, kind: "analysis" | "training") {
  return await deps.jobs.finishedResult(await deps.jobs.get(id, owner, kind));
}

function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header === "*" || header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 120);
}

async function render(
  spec: Record<string, unknown>,
  format: ChartFormat,
  scale: number,
): Promise<Uint8Array> {
  if (format === "json") return new TextEncoder().encode(JSON.stringify(spec));
  const svg = await renderSvg(spec);
  if (format === "svg") return new TextEncoder().encode(svg);
  return await renderPng(svg, { scale });
}

/** A rendered chart and its strong ETag. */
interface Rendered {
  body: Uint8Array;
  etag: string;
}

/**
 * Renderings of finished results (immutable), least recently used first out, bounded by entries
 * and bytes; concurrent requests for the same chart share one rendering, failures are not kept.
 */
type RenderCache = LRUCache<string, Rendered, () => Promise<Uint8Array>>;

function renderCache(maxEntries: number, maxBytes: number): RenderCache {
  return new LRUCache<string, Rendered, () => Promise<Uint8Array>>({
    max: maxEntries,
    maxSize: maxBytes,
    sizeCalculation: (r) => Math.max(1, r.body.byteLength),
    fetchMethod: async (_key, _stale, { context: make }) => {
      const body = await make();
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body as BufferSource));
      const hex = Array.from(digest.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
      return { body, etag: `"${hex}"` };
    },
  });
}
