/**
 * Listings: `GET /v1/jobs` (every kind, or `?kind=`), and the per-kind lists
 * `GET /v1/analyses` and `GET /v1/trainings`. Newest first, cursor-paginated, filtered by
 * status, label and creation time; a key lists only its own jobs.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { JobKind, JobRecord } from "../workers/mod.ts";
import type { AppEnv, Deps } from "./env.ts";
import { commonProblems, jobPath, KIND_PATHS, ownerOf, problemResponse } from "./http.ts";
import { JobListSchema, type JobSummarySchema } from "./schemas.ts";

const KINDS = ["analysis", "training", "experiment"] as const;
const STATUSES = ["queued", "running", "done", "failed", "cancelled"] as const;

const time = z.string().datetime({ offset: true });

const ListQuerySchema = z.object({
  status: z.enum(STATUSES).optional().openapi({ description: "Only jobs in this state." }),
  label: z.string().max(200).optional().openapi({
    description: "Only jobs whose label contains this text (case-insensitive).",
  }),
  created_before: time.optional().openapi({ description: "ISO time, exclusive." }),
  created_after: time.optional().openapi({ description: "ISO time, inclusive." }),
  cursor: z.string().max(1000).optional().openapi({
    description: "From the previous page's `next`.",
  }),
  limit: z.coerce.number().int().min(1).max(200).optional().openapi({
    description: "Page size (default 50).",
  }),
});

function listRoute(path: string, operationId: string, summary: string, withKind: boolean) {
  return createRoute({
    method: "get",
    path,
    operationId,
    tags: [withKind ? "jobs" : path.slice("/v1/".length)],
    summary,
    request: {
      query: withKind
        ? ListQuerySchema.extend({
          kind: z.enum(KINDS).optional().openapi({ description: "Only jobs of this kind." }),
        })
        : ListQuerySchema,
    },
    responses: {
      200: { content: { "application/json": { schema: JobListSchema } }, description: "A page" },
      ...commonProblems(),
      422: problemResponse("Invalid filter or cursor"),
    },
  });
}

/** Registers the listing routes. */
export function jobListRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  const list = async (
    c: Context<AppEnv>,
    q: z.infer<typeof ListQuerySchema> & { kind?: JobKind },
    path: string,
  ) => {
    const limit = q.limit ?? 50;
    const page = await deps.jobs.list({
      owner: ownerOf(c),
      kind: q.kind,
      status: q.status,
      label: q.label,
      createdBefore: q.created_before,
      createdAfter: q.created_after,
      cursor: q.cursor,
      limit,
    });
    let next: string | null = null;
    if (page.cursor) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...q, limit, cursor: page.cursor })) {
        if (v !== undefined) params.set(k, String(v));
      }
      next = `${path}?${params}`;
    }
    return c.json({ items: page.items.map(summarise), next }, 200);
  };
  app.openapi(
    listRoute("/v1/jobs", "listJobs", "Jobs of every kind, newest first", true),
    (c) => list(c, c.req.valid("query"), "/v1/jobs"),
  );
  for (const kind of ["analysis", "training"] as const) {
    const path = KIND_PATHS[kind];
    app.openapi(
      listRoute(
        path,
        kind === "analysis" ? "listAnalyses" : "listTrainings",
        `The caller's ${kind === "analysis" ? "analyses" : "trainings"}, newest first`,
        false,
      ),
      (c) => list(c, { ...c.req.valid("query"), kind }, path),
    );
  }
}

/** One line that tells jobs apart in a list. */
function summaryLine(rec: JobRecord): string {
  switch (rec.kind) {
    case "analysis": {
      const r = rec.request;
      return `m=${r.m}, ${r.layers} layer${r.layers === 1 ? "" : "s"} x ${r.checkpoints} ` +
        `checkpoint${r.checkpoints === 1 ? "" : "s"}`;
    }
    case "training": {
      const j = rec.request;
      const model = (j.model as { preset?: string } | null)?.preset ?? "custom model";
      return `${model} on ${j.dataset.name}, ${
        j.methods.map((m) => m.label ?? m.name).join(" vs ")
      }`;
    }
    case "experiment":
      return `${rec.request.names.join(", ")} at ${rec.request.scale} scale`;
  }
}

function summarise(rec: JobRecord): z.infer<typeof JobSummarySchema> {
  const self = jobPath(rec);
  return {
    id: rec.id,
    kind: rec.kind,
    label: rec.label,
    status: rec.status,
    created_at: rec.created_at,
    finished_at: rec.finished_at,
    summary: summaryLine(rec),
    progress: rec.progress
      ? {
        fraction: rec.progress.fraction,
        elapsed_s: rec.progress.elapsed_s,
        eta_s: rec.progress.eta_s,
      }
      : null,
    links: { self },
  };
}
