/** GET /v1/health: liveness without touching storage, so it answers while compute runs. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv, Deps } from "./env.ts";
import { HealthSchema } from "./schemas.ts";

const health = createRoute({
  method: "get",
  path: "/v1/health",
  summary: "Service health",
  responses: {
    200: { content: { "application/json": { schema: HealthSchema } }, description: "Healthy" },
  },
});

/** Registers the health route. */
export function healthRoutes(app: OpenAPIHono<AppEnv>, deps: Deps): void {
  app.openapi(health, (c) =>
    c.json({
      status: "ok" as const,
      version: deps.version,
      linalg: deps.linalgName,
      workers: { size: deps.settings.workers, ...deps.analyses.load },
      uptime_s: (Date.now() - deps.startedAt) / 1000,
      trainings: { engine: deps.trainings.mode, ...(deps.trainings.load ?? {}) },
    }, 200));
}
