/**
 * GET /v1/health: liveness and what the service runs on. It answers while compute runs (compute
 * is in Web Workers), and says `degraded`, with reasons, when the job store does not answer.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv, Deps } from "./env.ts";
import { HealthSchema } from "./schemas.ts";

const health = createRoute({
  method: "get",
  path: "/v1/health",
  operationId: "getHealth",
  tags: ["service"],
  summary: "Service health",
  description: "Liveness, the compute backend and the load. Needs no API key and is never " +
    "rate-limited.",
  security: [],
  responses: {
    200: { content: { "application/json": { schema: HealthSchema } }, description: "Up" },
  },
});

/** Registers the health route. */
export function healthRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(health, async (c) => {
    const { jobs } = deps;
    const reasons = await withTimeout(jobs.problems(), 1_000, ["store: no answer in 1 s"]);
    const workers = await withTimeout(jobs.workers(), 1_000, null).catch(() => null);
    const now = Date.now();
    const load = jobs.load;
    return c.json({
      status: reasons.length ? "degraded" as const : "ok" as const,
      reasons,
      version: deps.version,
      linalg: deps.linalgName,
      uptime_s: (now - deps.startedAt) / 1000,
      workers: { size: deps.settings.workers, ...load.pool },
      jobs: {
        engine: jobs.mode,
        store: jobs.store.name,
        load: load.jobs,
        fleet: workers?.map((w) => ({ ...w, age_s: (now - Date.parse(w.seen_at)) / 1000 })) ??
          null,
      },
    }, 200);
  });
}

/** `p`, or `fallback` when it takes longer than `ms`. */
async function withTimeout<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<F>((resolve) => timer = setTimeout(() => resolve(fallback), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
