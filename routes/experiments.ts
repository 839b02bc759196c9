/**
 * /v1/experiments: run the experiment suite that reproduces the paper (docs/experiments.md) and
 * read its results and report.
 *
 *   GET    /v1/experiments                          catalogue: experiments, scales, claims
 *   POST   /v1/experiments                          {names | name, scale, backend} -> 202
 *   GET    /v1/experiments/{id}                     status, progress; results and verdicts
 *   GET    /v1/experiments/{id}/events              progress as server-sent events
 *   POST   /v1/experiments/{id}/cancel              cancel (the record stays)
 *   DELETE /v1/experiments/{id}                     delete
 *   GET    /v1/experiments/{id}/report.md|.html     the report (409 until done)
 *   GET    /v1/experiments/{id}/figures/{name}.png|svg|json   a figure of the report
 *
 * An experiment suite is a job of kind "experiment" (workers/): queued, run in a worker,
 * persisted, cancelled and restarted after a crash like any job.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  EXPERIMENT_NAMES,
  type ExperimentJobSpec,
  type ExperimentName,
  EXPERIMENTS,
  PUBLIC_SCALES,
  type Scale,
  type SuiteResult,
  suiteSize,
} from "../lib/experiments/mod.ts";
import {
  CLAIMS,
  evaluateClaims,
  type RenderedSuite,
  renderPng,
  reportBlocks,
  ReportCache,
  toHtml,
  toMarkdown,
} from "../lib/report/mod.ts";
import { ConflictError, InputError, NotFoundError } from "../lib/errors.ts";
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
  streamJobEvents,
} from "./http.ts";
import { refuseServerless } from "./problem.ts";
import { ExperimentSchema, LabelSchema } from "./schemas.ts";
import { resultLinks } from "./ui/mod.ts";

const BACKENDS = ["auto", "tensorflow", "webgpu", "native", "wasm", "cpu"] as const;

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

/** Registers the experiment routes. */
export function experimentRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const { jobs } = deps;
  const scales = [...(deps.experimentScales ?? PUBLIC_SCALES)] as [Scale, ...Scale[]];

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
    label: LabelSchema.optional(),
  }).strict().openapi("ExperimentRequest");

  const catalogue = createRoute({
    method: "get",
    path: "/v1/experiments",
    operationId: "getExperimentCatalogue",
    tags: ["experiments"],
    summary: "Experiments that reproduce the paper",
    description: "The named experiments, what each asks, the claims it informs and its runs " +
      "and settings at each scale. Suites that were run are listed at `/v1/jobs?kind=experiment`.",
    responses: {
      200: {
        content: { "application/json": { schema: CatalogueSchema } },
        description: "Catalogue",
      },
      ...commonProblems(),
    },
  });

  const create = createRoute({
    method: "post",
    path: "/v1/experiments",
    operationId: "createExperiment",
    tags: ["experiments"],
    summary: "Run experiments",
    description: "Queues an experiment suite. Answers 202 with a Location to poll; progress " +
      "streams at `/v1/experiments/{id}/events`; once done, the report is at " +
      "`/v1/experiments/{id}/report.md` and `.html`.",
    request: {
      body: {
        required: true,
        content: {
          "application/json": {
            schema: RequestSchema,
            example: { names: ["toy"], scale: "cpu", label: "toy example" },
          },
        },
      },
    },
    responses: {
      202: {
        content: { "application/json": { schema: ExperimentSchema } },
        description: "Queued",
        headers: ACCEPTED_HEADERS,
      },
      ...creationProblems(),
      422: problemResponse("Unknown experiment, scale or field"),
      501: problemResponse("Experiment suites do not run in this deployment (serverless mode)"),
    },
  });

  const get = createRoute({
    method: "get",
    path: "/v1/experiments/{id}",
    operationId: "getExperiment",
    tags: ["experiments"],
    summary: "Status, progress and results of an experiment suite",
    request: idParam,
    responses: {
      200: {
        content: { "application/json": { schema: ExperimentSchema } },
        description: "The suite (results and verdicts once done)",
      },
      ...commonProblems(),
      404: problemResponse("No such experiment suite (for this key)"),
    },
  });

  const events = createRoute({
    method: "get",
    path: "/v1/experiments/{id}/events",
    operationId: "getExperimentEvents",
    tags: ["experiments"],
    summary: "Progress of an experiment suite as server-sent events",
    description: "Like a training's events: every method training of every run, then `end`.",
    request: { ...idParam, headers: LastEventIdSchema },
    responses: {
      200: eventStreamResponse(
        "Logged events carry a `TrainingEvent`; `progress` events a `TrainingProgress` counted " +
          "in method trainings.",
        ["TrainingEvent", "TrainingProgress"],
      ),
      ...commonProblems(),
      404: problemResponse("No such experiment suite (for this key)"),
    },
  });

  const cancel = createRoute({
    method: "post",
    path: "/v1/experiments/{id}/cancel",
    operationId: "cancelExperiment",
    tags: ["experiments"],
    summary: "Cancel an experiment suite",
    request: idParam,
    responses: {
      200: {
        content: { "application/json": { schema: ExperimentSchema } },
        description: "Cancelled",
      },
      ...commonProblems(),
      404: problemResponse("No such experiment suite (for this key)"),
      409: problemResponse("The suite has already finished"),
    },
  });

  const remove = createRoute({
    method: "delete",
    path: "/v1/experiments/{id}",
    operationId: "deleteExperiment",
    tags: ["experiments"],
    summary: "Delete an experiment suite",
    description: "Stops it if it is queued or running, then removes its record and results.",
    request: idParam,
    responses: {
      204: { description: "Deleted" },
      ...commonProblems(),
      404: problemResponse("No such experiment suite (for this key)"),
    },
  });

  app.openapi(catalogue, (c) =>
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
    refuseServerless(deps.settings, "experiment suites");
    const body = c.req.valid("json");
    if (body.name && body.names) {
      throw new InputError("invalid-request", "send either `name` or `names`", "name");
    }
    const names: ExperimentName[] = body.names ?? (body.name ? [body.name] : [...EXPERIMENT_NAMES]);
    const scale = body.scale ?? "cpu";
    const backend = body.backend ?? "auto";
    const spec: ExperimentJobSpec = {
      names: EXPERIMENT_NAMES.filter((n) => names.includes(n)),
      scale,
      backend,
      command: `POST /v1/experiments ${JSON.stringify({ names, scale, backend })}`,
    };
    suiteSize(spec); // throws InputError for suites that cannot run
    const rec = await jobs.submit("experiment", spec, ownerOf(c), { label: body.label });
    accepted(c, rec, 5);
    return c.json(present(rec, null), 202);
  });

  app.openapi(get, async (c) => {
    const rec = await jobs.get(c.req.valid("param").id, ownerOf(c), "experiment");
    return c.json(present(rec, await jobs.result(rec)), 200);
  });

  app.openapi(events, async (c) => {
    const rec = await jobs.get(c.req.valid("param").id, ownerOf(c), "experiment");
    return streamJobEvents(c, jobs, rec, deps.settings.jobs.keepAliveMs);
  });

  app.openapi(cancel, async (c) => {
    const rec = await jobs.cancel(c.req.valid("param").id, ownerOf(c), "experiment");
    return c.json(present(rec, null), 200);
  });

  app.openapi(remove, async (c) => {
    await jobs.remove(c.req.valid("param").id, ownerOf(c), "experiment");
    return c.body(null, 204);
  });

  // Documented here, routed as one path segment and split, like the chart routes.
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/v1/experiments/{id}/report.{format}",
    operationId: "getExperimentReport",
    tags: ["experiments"],
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
      ...commonProblems(),
      404: problemResponse("No such experiment suite (for this key), or unknown format"),
      409: problemResponse("The suite has not finished"),
    },
  });
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/v1/experiments/{id}/figures/{name}.{format}",
    operationId: "getExperimentFigure",
    tags: ["experiments"],
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
          "application/json": {
            schema: z.record(z.string(), z.unknown()).openapi({
              description: "Vega-Lite v5 specification",
            }),
          },
        },
        description: "The figure",
      },
      ...commonProblems(),
      404: problemResponse("No such suite, figure or format"),
      409: problemResponse("The suite has not finished"),
    },
  });

  const reports = new ReportCache();

  /** The finished suite `id` of the caller, rendered. */
  async function rendered(c: Context<AppEnv>, id: string): Promise<RenderedSuite> {
    const rec = await jobs.get(id, ownerOf(c), "experiment");
    const entry = await reports.get(rec.id, () => jobs.finishedResult(rec));
    if (!entry) throw new ConflictError(`experiment "${id}" has no result`);
    return entry;
  }

  app.get("/v1/experiments/:id/:file{report\\.[a-z]+}", async (c) => {
    const format = c.req.param("file").slice("report.".length);
    if (format !== "md" && format !== "html") {
      throw new NotFoundError(
        `no report format "${format}"; use report.md or report.html`,
        "format",
      );
    }
    const entry = await rendered(c, c.req.param("id"));
    const blocks = reportBlocks(entry.suite, entry.figures);
    if (format === "md") {
      return c.body(toMarkdown(blocks), 200, { "content-type": "text/markdown; charset=utf-8" });
    }
    const svgs = new Map<string, string>();
    for (const f of entry.figures) svgs.set(f.name, await entry.svg(f));
    return c.html(toHtml(blocks, svgs), 200);
  });

  app.get("/v1/experiments/:id/figures/:file", async (c) => {
    const file = c.req.param("file");
    const dot = file.lastIndexOf(".");
    const name = dot > 0 ? file.slice(0, dot) : file, format = file.slice(dot + 1);
    if (dot <= 0 || !["png", "svg", "json"].includes(format)) {
      throw new NotFoundError(`use ${name}.png, ${name}.svg or ${name}.json`, "format");
    }
    const id = c.req.param("id");
    const entry = await rendered(c, id);
    const fig = entry.figures.find((f) => f.name === name);
    if (!fig) throw new NotFoundError(`no figure "${name}" in experiment "${id}"`, "name");
    if (format === "json") return c.json(fig.spec, 200);
    const svg = await entry.svg(fig);
    if (format === "svg") return c.body(svg, 200, { "content-type": "image/svg+xml" });
    const png = await renderPng(svg);
    return c.body(png.slice().buffer as ArrayBuffer, 200, { "content-type": "image/png" });
  });
}

/** The API shape of an experiment suite. */
function present(
  rec: JobRecordOf<"experiment">,
  suite: SuiteResult | null,
): z.infer<typeof ExperimentSchema> {
  const spec = rec.request;
  const base = `/v1/experiments/${rec.id}`;
  return {
    ...jobFields(rec),
    request: { names: spec.names, scale: spec.scale, backend: spec.backend },
    runs: suiteSize(spec).runs,
    progress: rec.progress,
    ...(suite
      ? {
        verdicts: evaluateClaims(suite).map((cl) => ({
          number: cl.number,
          title: cl.title,
          verdict: cl.verdict,
          parts: cl.parts.map((p) => ({ id: p.id, holds: p.holds })),
        })),
        // Stored requests are as given (defaults not filled in); routes/schemas.ts checks that
        // SuiteResult and the schema agree.
        result: suite as unknown as z.infer<typeof ExperimentSchema>["result"],
      }
      : {}),
    links: {
      self: base,
      events: `${base}/events`,
      cancel: `${base}/cancel`,
      report_md: `${base}/report.md`,
      report_html: `${base}/report.html`,
      ...resultLinks(rec),
    },
  };
}
