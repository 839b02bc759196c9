/**
 * /v1/experiments: run the experiment suite that reproduces the paper (docs/experiments.md) and
 * read its results and report.
 *
 *   GET    /v1/experiments                          catalogue: experiments, scales, claims
 *   POST   /v1/experiments                          {names | name, scale, backend} -> 202 + Location
 *   GET    /v1/experiments/{id}                     status, progress; results and verdicts once done
 *   DELETE /v1/experiments/{id}                     cancel
 *   GET    /v1/experiments/{id}/report.md|.html     the report (409 until done)
 *   GET    /v1/experiments/{id}/figures/{name}.png|svg|json   a figure of the report
 *
 * An experiment suite is a job of the training engine (`deps.trainings`): it is queued, run in a
 * worker, persisted, cancelled and restarted after a crash like a training job, and its events
 * stream at /v1/trainings/{id}/events. The engine's runner module must be
 * lib/experiments/job.ts, which runs experiment jobs and hands training jobs on
 * (workers/training_config.ts).
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  EXPERIMENT_NAMES,
  experimentJob,
  type ExperimentName,
  EXPERIMENTS,
  isExperimentJob,
  PUBLIC_SCALES,
  type Scale,
  type SuiteResult,
  suiteRuns,
} from "../lib/experiments/mod.ts";
import {
  buildFigures,
  CLAIMS,
  evaluateClaims,
  type Figure,
  renderPng,
  renderSvg,
  reportBlocks,
  toHtml,
  toMarkdown,
} from "../lib/report/mod.ts";
import type { TrainingJob } from "../lib/train/types.ts";
import type { TrainingRecord } from "../workers/training_types.ts";
import type { AppEnv, Deps } from "./env.ts";
import { problem } from "./problem.ts";
import { IdParamSchema, ProblemSchema } from "./schemas.ts";

/** Options of {@link experimentRoutes}. */
export interface ExperimentRouteOptions {
  /** Scales callers may ask for (default cpu and full; tests add "micro"). */
  scales?: readonly Scale[];
}

const problemResponse = (description: string) => ({
  content: { "application/problem+json": { schema: ProblemSchema } },
  description,
});

const BACKENDS = ["auto", "tensorflow", "webgpu", "native", "wasm", "cpu"] as const;

const ExperimentRecordSchema = z.object({
  id: z.string(),
  status: z.enum(["queued", "running", "done", "failed", "cancelled"]),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  request: z.object({
    names: z.array(z.string()),
    scale: z.string(),
    backend: z.string(),
  }),
  runs: z.number().int().openapi({ description: "Training runs (configuration x seed)." }),
  progress: z.record(z.string(), z.any()).nullable().openapi({
    description: "Method trainings done / total, the method running now (labelled " +
      '"<run key> · <method>"), its epoch, step and accuracy.',
  }),
  error: z.object({
    message: z.string(),
    problem: z.string().optional(),
    field: z.string().optional(),
  }).nullable(),
  verdicts: z.array(z.object({
    number: z.number().int(),
    title: z.string(),
    verdict: z.string(),
    parts: z.array(z.object({ id: z.string(), holds: z.boolean().nullable() })),
  })).optional().openapi({ description: "Once done: the verdict on each of the paper's claims." }),
  result: z.record(z.string(), z.any()).optional().openapi({
    description: "Once done: the suite's structured results (lib/experiments/types.ts " +
      "SuiteResult: settings, seeds, per-run training results and probes, aggregates, wall time).",
  }),
  links: z.record(z.string(), z.string()),
}).openapi("Experiment");

const CatalogueSchema = z.object({
  experiments: z.array(z.object({
    name: z.string(),
    title: z.string(),
    question: z.string(),
    claims: z.array(z.number().int()),
    scales: z.record(
      z.string(),
      z.object({
        runs: z.number().int(),
        method_trainings: z.number().int(),
        seeds: z.array(z.number().int()),
        settings: z.array(z.string()),
      }),
    ),
  })),
  claims: z.array(z.object({ number: z.number().int(), title: z.string(), claim: z.string() })),
}).openapi("ExperimentCatalogue");

const idParam = { params: IdParamSchema };

/** One finished suite's report pieces, built once per process and kept a while. */
interface Rendered {
  suite: SuiteResult;
  figures: Figure[];
  svgs: Map<string, string>;
}

/** Registers the experiment routes. */
export function experimentRoutes(
  app: OpenAPIHono<AppEnv>,
  deps: Deps,
  options: ExperimentRouteOptions = {},
): void {
  const engine = deps.trainings;
  const scales = [...(options.scales ?? PUBLIC_SCALES)] as [Scale, ...Scale[]];

  const RequestSchema = z.object({
    names: z.array(z.enum(EXPERIMENT_NAMES)).min(1).optional().openapi({
      description: "Experiments to run, default all.",
    }),
    name: z.enum(EXPERIMENT_NAMES).optional().openapi({ description: "One experiment." }),
    scale: z.enum(scales).optional().openapi({
      description: '"cpu" (default): data subsets and few epochs, about an hour on 2 cores; ' +
        '"full": whole datasets and the paper\'s settings, meant for a GPU.',
    }),
    backend: z.enum(BACKENDS).optional(),
  }).strict().openapi("ExperimentRequest");

  const list = createRoute({
    method: "get",
    path: "/v1/experiments",
    summary: "Experiments that reproduce the paper",
    description: "The named experiments, what each asks, the claims it informs and its runs " +
      "and settings at each scale.",
    responses: {
      200: {
        content: { "application/json": { schema: CatalogueSchema } },
        description: "Catalogue",
      },
      401: problemResponse("Missing or unknown API key"),
    },
  });

  const create = createRoute({
    method: "post",
    path: "/v1/experiments",
    summary: "Run experiments",
    description: "Queues an experiment suite as a job of the training engine. Answers 202 with " +
      "a Location to poll; progress streams at `/v1/trainings/{id}/events`; once done, the " +
      "report is at `/v1/experiments/{id}/report.md` and `.html`.",
    request: { body: { content: { "application/json": { schema: RequestSchema } } } },
    responses: {
      202: {
        content: { "application/json": { schema: ExperimentRecordSchema } },
        description: "Queued",
      },
      401: problemResponse("Missing or unknown API key"),
      422: problemResponse("Unknown experiment, scale or field"),
    },
  });

  const get = createRoute({
    method: "get",
    path: "/v1/experiments/{id}",
    summary: "Status, progress and results of an experiment suite",
    request: idParam,
    responses: {
      200: {
        content: { "application/json": { schema: ExperimentRecordSchema } },
        description: "The suite (results and verdicts once done)",
      },
      401: problemResponse("Missing or unknown API key"),
      404: problemResponse("No such experiment suite (for this key)"),
    },
  });

  const cancel = createRoute({
    method: "delete",
    path: "/v1/experiments/{id}",
    summary: "Cancel an experiment suite",
    request: idParam,
    responses: {
      200: {
        content: { "application/json": { schema: ExperimentRecordSchema } },
        description: "Cancelled",
      },
      401: problemResponse("Missing or unknown API key"),
      404: problemResponse("No such experiment suite (for this key)"),
      409: problemResponse("The suite has already finished"),
    },
  });

  app.openapi(list, (c) =>
    c.json({
      experiments: EXPERIMENT_NAMES.map((name) => {
        const def = EXPERIMENTS[name];
        return {
          name,
          title: def.title,
          question: def.question,
          claims: def.claims,
          scales: Object.fromEntries(PUBLIC_SCALES.map((s) => {
            const runs = def.runs(s);
            const settings = def.settings(s);
            return [s, {
              runs: runs.length,
              method_trainings: runs.reduce((n, r) => n + (r.request.methods?.length ?? 0), 0),
              seeds: settings.seeds,
              settings: settings.description,
            }];
          })),
        };
      }),
      claims: CLAIMS.map((cl) => ({ ...cl })),
    }, 200));

  app.openapi(create, async (c) => {
    const body = c.req.valid("json");
    if (body.name && body.names) {
      return typed(problem(c, 422, "validation", "send either `name` or `names`", {
        field: "name",
      }));
    }
    const names: ExperimentName[] = body.names ?? (body.name ? [body.name] : [...EXPERIMENT_NAMES]);
    const scale = body.scale ?? "cpu";
    const backend = body.backend ?? "auto";
    const job = experimentJob({
      names: EXPERIMENT_NAMES.filter((n) => names.includes(n)),
      scale,
      backend,
      command: `POST /v1/experiments ${JSON.stringify({ names, scale, backend })}`,
    });
    const rec = await engine.submit(job as unknown as TrainingJob, c.get("owner"));
    c.header("Location", `/v1/experiments/${rec.id}`);
    return c.json(present(rec, null), 202);
  });

  app.openapi(get, async (c) => {
    const rec = await owned(c, c.req.valid("param").id);
    if (!rec) return typed(notFound(c, c.req.valid("param").id));
    const suite = rec.status === "done" ? await suiteOf(rec.id) : null;
    return c.json(present(rec, suite), 200);
  });

  app.openapi(cancel, async (c) => {
    const id = c.req.valid("param").id;
    const rec = await owned(c, id);
    if (!rec) return typed(notFound(c, id));
    const { record, applied } = await engine.cancel(id);
    if (!applied || !record) {
      return typed(problem(c, 409, "conflict", `experiment "${id}" has already finished`, {
        field: "id",
      }));
    }
    return c.json(present(record, null), 200);
  });

  // Documented here, routed as one path segment and split, like the chart routes.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/v1/experiments/{id}/report.{format}",
    summary: "The report of a finished experiment suite",
    description: "Each of the paper's claims with the measured numbers (mean ± sd over seeds), " +
      "the verdict and the rule behind it, the figures, settings, seeds, command and wall time. " +
      "`md`: Markdown whose figures link to `figures/{name}.png` (relative to the report); " +
      "`html`: a standalone page with the figures inline (SVG). 409 until the suite is done.",
    request: {
      params: z.object({
        id: z.string().openapi({ param: { name: "id", in: "path" } }),
        format: z.enum(["md", "html"]).openapi({ param: { name: "format", in: "path" } }),
      }),
    },
    responses: {
      200: {
        content: { "text/markdown": { schema: z.string() }, "text/html": { schema: z.string() } },
        description: "The report",
      },
      404: problemResponse("No such experiment suite (for this key), or unknown format"),
      409: problemResponse("The suite has not finished"),
    },
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/v1/experiments/{id}/figures/{name}.{format}",
    summary: "A figure of a finished experiment suite's report",
    description: "`json`: the Vega-Lite v5 spec (data inlined); `svg`, `png`: the service's " +
      "rendering. Figure names are listed in the report.",
    request: {
      params: z.object({
        id: z.string().openapi({ param: { name: "id", in: "path" } }),
        name: z.string().openapi({ param: { name: "name", in: "path" } }),
        format: z.enum(["png", "svg", "json"]).openapi({ param: { name: "format", in: "path" } }),
      }),
    },
    responses: {
      200: {
        content: {
          "image/png": { schema: z.string().openapi({ format: "binary" }) },
          "image/svg+xml": { schema: z.string() },
          "application/json": { schema: z.record(z.string(), z.unknown()) },
        },
        description: "The figure",
      },
      404: problemResponse("No such suite, figure or format"),
      409: problemResponse("The suite has not finished"),
    },
  });

  const cache = new Map<string, Rendered>();
  const MAX_CACHED = 4;

  async function rendered(id: string): Promise<Rendered | null> {
    const hit = cache.get(id);
    if (hit) {
      cache.delete(id);
      cache.set(id, hit); // most recently used last
      return hit;
    }
    const suite = await suiteOf(id);
    if (!suite) return null;
    const entry = { suite, figures: buildFigures(suite), svgs: new Map<string, string>() };
    cache.set(id, entry);
    while (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
    return entry;
  }

  async function svgOf(entry: Rendered, f: Figure): Promise<string> {
    let svg = entry.svgs.get(f.name);
    if (!svg) entry.svgs.set(f.name, svg = await renderSvg(f.spec));
    return svg;
  }

  /** The finished suite of `id`, or a problem response. */
  async function finished(c: Context<AppEnv>, id: string): Promise<Rendered | Response> {
    const rec = await owned(c, id);
    if (!rec) return notFound(c, id);
    if (rec.status !== "done") {
      return problem(c, 409, "conflict", `experiment "${id}" is ${rec.status}; no report yet`, {
        field: "id",
      });
    }
    return await rendered(id) ?? notFound(c, id);
  }

  app.get("/v1/experiments/:id/:file{report\\.[a-z]+}", async (c) => {
    const id = c.req.param("id");
    const format = c.req.param("file").slice("report.".length);
    if (format !== "md" && format !== "html") {
      return problem(
        c,
        404,
        "not-found",
        `no report format "${format}"; use report.md or report.html`,
        {
          field: "format",
        },
      );
    }
    const entry = await finished(c, id);
    if (entry instanceof Response) return entry;
    const blocks = reportBlocks(entry.suite, entry.figures);
    if (format === "md") {
      return c.body(toMarkdown(blocks), 200, { "content-type": "text/markdown; charset=utf-8" });
    }
    const svgs = new Map<string, string>();
    for (const f of entry.figures) svgs.set(f.name, await svgOf(entry, f));
    return c.html(toHtml(blocks, svgs), 200);
  });

  app.get("/v1/experiments/:id/figures/:file", async (c) => {
    const id = c.req.param("id");
    const file = c.req.param("file");
    const dot = file.lastIndexOf(".");
    const name = dot > 0 ? file.slice(0, dot) : file, format = file.slice(dot + 1);
    if (dot <= 0 || !["png", "svg", "json"].includes(format)) {
      return problem(c, 404, "not-found", `use ${name}.png, ${name}.svg or ${name}.json`, {
        field: "format",
      });
    }
    const entry = await finished(c, id);
    if (entry instanceof Response) return entry;
    const fig = entry.figures.find((f) => f.name === name);
    if (!fig) {
      return problem(c, 404, "not-found", `no figure "${name}" in experiment "${id}"`, {
        field: "name",
      });
    }
    if (format === "json") return c.json(fig.spec, 200);
    const svg = await svgOf(entry, fig);
    if (format === "svg") return c.body(svg, 200, { "content-type": "image/svg+xml" });
    const png = await renderPng(svg);
    return c.body(png.slice().buffer as ArrayBuffer, 200, { "content-type": "image/png" });
  });

  async function owned(c: Context<AppEnv>, id: string): Promise<TrainingRecord | null> {
    const rec = await engine.store.get(id);
    return rec && rec.owner === c.get("owner") && isExperimentJob(rec.job) ? rec : null;
  }

  async function suiteOf(id: string): Promise<SuiteResult | null> {
    const r = await engine.store.result(id) as unknown as SuiteResult | null;
    return r?.kind === "infoplane-experiment-suite" ? r : null;
  }
}

/** A problem where a route's typed responses are JSON only (problems are documented). */
function typed(r: Response): never {
  return r as never;
}

function notFound(c: Context, id: string): Response {
  return problem(c, 404, "not-found", `no experiment suite with id "${id}"`, { field: "id" });
}

/** The API shape of an experiment suite. */
function present(
  rec: TrainingRecord,
  suite: SuiteResult | null,
): z.infer<typeof ExperimentRecordSchema> {
  const job = rec.job as unknown as ReturnType<typeof experimentJob>;
  const spec = job.experiment;
  return {
    id: rec.id,
    status: rec.status,
    created_at: rec.created_at,
    updated_at: rec.updated_at,
    started_at: rec.started_at,
    finished_at: rec.finished_at,
    request: { names: spec.names, scale: spec.scale, backend: spec.backend },
    runs: suiteRuns(spec.names, spec.scale, { seeds: spec.seeds }).length,
    progress: rec.progress as unknown as Record<string, unknown> | null,
    error: rec.error,
    ...(suite
      ? {
        verdicts: evaluateClaims(suite).map((cl) => ({
          number: cl.number,
          title: cl.title,
          verdict: cl.verdict,
          parts: cl.parts.map((p) => ({ id: p.id, holds: p.holds })),
        })),
        result: suite as unknown as Record<string, unknown>,
      }
      : {}),
    links: {
      self: `/v1/experiments/${rec.id}`,
      events: `/v1/trainings/${rec.id}/events`,
      report_md: `/v1/experiments/${rec.id}/report.md`,
      report_html: `/v1/experiments/${rec.id}/report.html`,
    },
  };
}
